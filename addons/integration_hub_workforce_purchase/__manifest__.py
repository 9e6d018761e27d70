{
    "name": "Integration Hub: Workforce approvals for purchases",
    "summary": "Department managers from the HR system approve their department's purchase "
    "requests",
    "version": "18.0.1.0.0",
    "category": "Inventory/Purchase",
    "author": "Healthcare Integration Hub contributors",
    "website": "https://github.com/healthcare-integration-hub/odoo-integration-hub",
    "license": "LGPL-3",
    "development_status": "Alpha",
    # A bridge: installed by itself when both flows are, so each stays independent.
    "depends": ["integration_hub_workforce", "integration_hub_supply"],
    "data": [
        "views/hr_department_views.xml",
        "views/purchase_order_views.xml",
    ],
    "auto_install": True,
    "installable": True,
}
