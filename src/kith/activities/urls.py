"""Activities web UI URLs, merged into the "web" namespace by kith.web.urls.

urls_activities: timeline, logging calls/meetings/notes, activity pages, comments
urls_tasks:      tasks, sending email, email templates, notification settings
urls_calendar:   calendar views, .ics downloads, invitations, My day
urls_public:     the private calendar feed (/calendar/<token>.ics), outside the login and the "web" namespace
"""

from . import urls_activities, urls_calendar, urls_tasks

urlpatterns = [*urls_activities.urlpatterns, *urls_tasks.urlpatterns, *urls_calendar.urlpatterns]
