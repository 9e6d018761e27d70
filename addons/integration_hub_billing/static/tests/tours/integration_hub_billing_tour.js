import {registry} from "@web/core/registry";
import {stepUtils} from "@web_tour/tour_service/tour_utils";

const openIntegrationMenu = (menu) => [
    stepUtils.showAppsMenuItem(),
    {
        content: "Open Accounting",
        trigger: '.o_app[data-menu-xmlid="account.menu_finance"]',
        run: "click",
    },
    {
        content: "Open the Integration menu",
        trigger:
            '.dropdown-toggle[data-menu-xmlid="integration_hub_billing.integration_hub_billing_menu"]',
        run: "click",
    },
    {
        content: `Open ${menu}`,
        trigger: `.dropdown-item[data-menu-xmlid="integration_hub_billing.${menu}"]`,
        run: "click",
    },
];

// A finance user resolves an unknown service code from the Accounting menu.
registry.category("web_tour.tours").add("integration_hub_billing_map_code", {
    url: "/odoo",
    steps: () => [
        ...openIntegrationMenu("integration_exception_menu_billing"),
        {
            content: "Open the unmapped code exception",
            trigger: '.o_data_row td:contains("Unmapped code")',
            run: "click",
        },
        {
            content: "The exception explains the unknown code",
            trigger: '.o_form_view .alert:contains("TOUR-1")',
        },
        {
            content: "Map code and retry",
            trigger: "button.o_integration_hub_map_code",
            run: "click",
        },
        {
            content: "Pick the product",
            trigger: '.modal .o_field_widget[name="res_id"] input',
            run: "edit Tour visit",
        },
        {
            content: "Choose it",
            trigger: '.ui-menu-item a:contains("Tour visit")',
            run: "click",
        },
        {
            content: "Map and retry",
            trigger: '.modal button[name="action_map_and_retry"]',
            run: "click",
        },
        {
            content: "The message is queued again: the exception is in progress",
            trigger: '.o_statusbar_status .o_arrow_button_current:contains("In progress")',
        },
    ],
});

// Once the job ran, the same user finds the charge and its invoice.
registry.category("web_tour.tours").add("integration_hub_billing_see_invoice", {
    url: "/odoo",
    steps: () => [
        ...openIntegrationMenu("integration_charge_menu"),
        {
            content: "Show every charge, not only those to review",
            trigger: '.o_searchview_facet:contains("To review") .o_facet_remove',
            run: "click",
        },
        {
            content: "Wait for the list without the filter",
            trigger: ".o_searchview:not(:has(.o_searchview_facet))",
        },
        {
            content: "Open the charge",
            trigger: '.o_data_row td:contains("CHG-TOUR")',
            run: "click",
        },
        {
            content: "It is invoiced",
            trigger: '.o_statusbar_status .o_arrow_button_current:contains("Invoiced")',
        },
        {
            content: "Open its invoice",
            trigger: 'button[name="action_view_invoices"]',
            run: "click",
        },
        {
            content: "The posted invoice bills the payer",
            trigger: '.o_field_widget[name="partner_id"]:contains("Tour Payer")',
        },
        {
            content: "for the charge's amount",
            trigger: '.o_statusbar_status .o_arrow_button_current:contains("Posted")',
        },
        {
            content: "Open the messages that built it",
            trigger: "button.o_integration_messages_button",
            run: "click",
        },
        {
            content: "The charge message is there, done",
            trigger: '.o_data_row:contains("charge.captured"):contains("Done")',
        },
    ],
});
