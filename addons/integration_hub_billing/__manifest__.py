{
    "name": "Integration Hub Billing",
    "summary": "Revenue cycle: patients, payers, appointments and charges become invoices, "
    "payments reconcile, finance resolves exceptions from Accounting",
    "version": "18.0.1.2.0",
    "category": "Accounting",
    "author": "Healthcare Integration Hub contributors",
    "website": "https://github.com/healthcare-integration-hub/odoo-integration-hub",
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["integration_hub", "account"],
    "data": [
        "security/ir.model.access.csv",
        "security/integration_hub_billing_security.xml",
        "data/integration_event_type_data.xml",
        "data/integration_code_kind_data.xml",
        "data/ir_cron_data.xml",
        "views/integration_charge_views.xml",
        "views/integration_appointment_views.xml",
        "views/integration_reconciliation_report_views.xml",
        "views/integration_backend_views.xml",
        "views/integration_exception_views.xml",
        "views/account_move_views.xml",
        "views/integration_hub_billing_menus.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "integration_hub_billing/static/tests/tours/*.js",
        ],
    },
    "installable": True,
}
