{
    "name": "Integration Hub HL7 v2",
    "summary": "HL7 v2 ADT, SIU and DFT messages over MLLP and HTTP become the hub's "
    "canonical events, acknowledged only once stored",
    "version": "18.0.1.0.0",
    "category": "Technical",
    "author": "Healthcare Integration Hub contributors",
    "website": "https://github.com/healthcare-integration-hub/odoo-integration-hub",
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["integration_hub", "integration_hub_billing"],
    "external_dependencies": {"python": ["hl7"]},
    "data": [
        "data/integration_event_type_data.xml",
        "views/integration_endpoint_views.xml",
    ],
    "installable": True,
}
