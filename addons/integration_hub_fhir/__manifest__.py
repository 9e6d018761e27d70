{
    "name": "Integration Hub FHIR R4",
    "summary": "FHIR R4 resources, Bundles and subscription notifications in as canonical "
    "billing events; FHIR Invoice and PaymentReconciliation out",
    "version": "18.0.1.0.0",
    "category": "Technical",
    "author": "Healthcare Integration Hub contributors",
    "website": "https://github.com/healthcare-integration-hub/odoo-integration-hub",
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["integration_hub", "integration_hub_billing"],
    "external_dependencies": {"python": ["fhir.resources"]},
    "data": [
        "data/integration_event_type_data.xml",
        "views/integration_endpoint_views.xml",
        "views/integration_subscription_views.xml",
    ],
    "installable": True,
}
