{
    "name": "Integration Hub: Supply Chain",
    "summary": "Consumption to valued stock moves, transfer-before-purchase replenishment, "
    "purchase requests, supplier acknowledgements, ASN and goods receipts",
    "version": "18.0.1.1.0",
    "category": "Inventory/Inventory",
    "author": "Healthcare Integration Hub contributors",
    "website": "https://github.com/healthcare-integration-hub/odoo-integration-hub",
    "license": "LGPL-3",
    "development_status": "Alpha",
    # purchase_stock: receipts of purchase orders (ASN, goods received) and, through
    # stock_account, the valuation of consumption moves.
    "depends": ["integration_hub", "stock", "purchase", "purchase_stock"],
    "data": [
        "security/integration_hub_supply_groups.xml",
        "security/ir.model.access.csv",
        "security/integration_hub_supply_security.xml",
        "data/queue_job_channel_data.xml",
        "data/queue_job_function_data.xml",
        "data/integration_event_type_data.xml",
        "data/integration_code_kind_data.xml",
        "data/stock_location_data.xml",
        "data/ir_cron_data.xml",
        "views/integration_supply_consumption_views.xml",
        "views/integration_supply_replenishment_views.xml",
        "views/integration_exception_views.xml",
        "views/product_template_views.xml",
        "views/purchase_order_views.xml",
        "views/integration_hub_supply_menus.xml",
    ],
    "installable": True,
}
