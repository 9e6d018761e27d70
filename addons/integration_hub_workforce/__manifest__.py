{
    "name": "Integration Hub: Workforce",
    "summary": "HR system to employees, departments and cost centres; shifts to labour cost "
    "by cost centre; the Workforce report and its reconciliation gaps",
    "version": "18.0.1.1.0",
    "category": "Human Resources",
    "author": "Healthcare Integration Hub contributors",
    "website": "https://github.com/healthcare-integration-hub/odoo-integration-hub",
    "license": "LGPL-3",
    "development_status": "Alpha",
    # hr_hourly_cost: the employee's hourly cost that values worked shifts.
    # analytic: cost centres are analytic accounts, shifts analytic lines.
    "depends": ["integration_hub", "hr", "hr_hourly_cost", "analytic"],
    "data": [
        "security/integration_hub_workforce_groups.xml",
        "security/ir.model.access.csv",
        "security/integration_hub_workforce_security.xml",
        "data/account_analytic_plan_data.xml",
        "data/hr_departure_reason_data.xml",
        "data/integration_event_type_data.xml",
        "data/ir_cron_data.xml",
        "views/hr_department_views.xml",
        "views/hr_employee_views.xml",
        "views/integration_workforce_report_views.xml",
        "views/integration_workforce_gap_views.xml",
        "views/integration_exception_views.xml",
        "views/integration_hub_workforce_menus.xml",
    ],
    "installable": True,
}
