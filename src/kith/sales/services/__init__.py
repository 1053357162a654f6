"""Writes for the sales app, one module per area; import from here."""

from .deals import (  # noqa: F401
    create_deal,
    delete_deal,
    move_deal,
    restore_deal,
    set_line_items,
    update_deal,
)
from .leads import (  # noqa: F401
    assign_lead,
    conversion_suggestions,
    convert_lead,
    create_lead,
    delete_lead,
    record_first_response,
    restore_lead,
    update_lead,
)
from .pipelines import (  # noqa: F401
    create_pipeline,
    create_stage,
    default_pipeline,
    delete_pipeline,
    delete_stage,
    ensure_default_pipeline,
    reorder_stages,
    update_pipeline,
    update_stage,
)
from .products import create_product, deactivate_product, update_product  # noqa: F401
from .quotas import delete_quota, set_quota  # noqa: F401
from .quotes import create_quote, set_quote_status  # noqa: F401
from .settings import delete_exchange_rate, set_exchange_rate, update_sales_settings  # noqa: F401
from .teams import create_rule, create_team, delete_rule, delete_team, move_rule, update_rule, update_team  # noqa: F401
from .webforms import create_form, delete_form, submit_form, update_form  # noqa: F401
