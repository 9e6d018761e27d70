{
    "name": "Integration Hub Demo",
    "summary": "Demo backends, endpoints and keys for the Integration Hub (never in production)",
    "version": "18.0.1.0.0",
    "category": "Technical",
    "author": "Healthcare Integration Hub contributors",
    "website": "https://github.com/healthcare-integration-hub/odoo-integration-hub",
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": [
        "integration_hub",
        "integration_hub_billing",
        "integration_hub_supply",
        "integration_hub_fhir",
        "integration_hub_hl7",
        "integration_hub_workforce",
    ],
    "demo": [
        "demo/integration_hub_demo.xml",
        "demo/integration_hub_billing_demo.xml",
        "demo/integration_hub_supply_demo.xml",
        "demo/integration_hub_fhir_demo.xml",
        "demo/integration_hub_hl7_demo.xml",
        "demo/integration_hub_workforce_demo.xml",
        "demo/integration_hub_rules_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "integration_hub_demo/static/tests/tours/*.js",
        ],
    },
    "installable": True,
}
