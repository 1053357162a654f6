from ninja import NinjaAPI

api = NinjaAPI(title="Kith API", version="1", urls_namespace="api")
