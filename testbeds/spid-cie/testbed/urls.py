from django.contrib import admin
from django.urls import path

from spid_cie_oidc.authority.urls import urlpatterns as authority_urls
from spid_cie_oidc.entity.urls import urlpatterns as entity_urls
from spid_cie_oidc.entity.views import entity_configuration, resolve_entity_statement
from spid_cie_oidc.provider.urls import urlpatterns as provider_urls

# The entity_configuration view looks the entity up by the request URL, so
# the OP living at <base>/oidc/op gets its own .well-known route here.
urlpatterns = [
    path("admin/", admin.site.urls),
    path("oidc/op/.well-known/openid-federation", entity_configuration,
         name="op_entity_configuration"),
    path("oidc/op/resolve", resolve_entity_statement, name="op_resolve"),
]
urlpatterns += entity_urls + authority_urls + provider_urls
