import {registry} from "@web/core/registry";
import {stepUtils} from "@web_tour/tour_service/tour_utils";

/*
 * Every role walks every menu of the hub it can see: each menu's view, a record's form
 * and the form's smart buttons, without an error dialog. The last step of each tour
 * fails if the role can see a menu of the hub that no step visited, and the Python
 * test (test_role_tours) fails if a menu of the suite is named in no tour.
 */

const SEEN = "o_hub_tour_seen";
const VISITED = "integration_hub_tour_visited";

const visited = () => JSON.parse(window.sessionStorage.getItem(VISITED) || "[]");

function markVisited(...xmlids) {
    window.sessionStorage.setItem(VISITED, JSON.stringify([...visited(), ...xmlids]));
}

function noErrorDialog(content) {
    return {
        content: `No error dialog: ${content}`,
        trigger: "body",
        run() {
            const dialog = document.querySelector(".o_error_dialog, .o_dialog .o_error_detail");
            if (dialog) {
                throw new Error(`${content}: an error dialog says ${dialog.textContent.trim()}`);
            }
        },
    };
}

// Clicks the trigger, then waits until the action manager shows another controller.
function clickAndWaitForNewView(content, trigger) {
    return [
        {
            content: `Remember the current view (${content})`,
            trigger: "body",
            run() {
                document.querySelectorAll(".o_action_manager .o_action").forEach((el) => {
                    el.classList.add(SEEN);
                });
            },
        },
        {content, trigger, run: "click"},
        {
            content: `The new view is shown (${content})`,
            // An error dialog ends the wait at once: the next step says what it said.
            trigger: `.o_action_manager .o_action:not(.${SEEN}), .o_error_dialog`,
        },
        noErrorDialog(content),
    ];
}

function goBack(content) {
    // The previous breadcrumb (or the back arrow on a small screen).
    return clickAndWaitForNewView(`Back (${content})`, ".o_breadcrumb .o_back_button");
}

// The smart buttons of the form shown are exactly those the step lists (a new one fails).
function checkSmartButtons(menu, buttons) {
    return {
        content: `The smart buttons of ${menu}'s form are known`,
        trigger: ".o_form_view",
        run() {
            const shown = [...document.querySelectorAll(".o_form_view .oe_stat_button")]
                .filter((button) => button.offsetParent !== null)
                .map((button) => button.getAttribute("name"));
            const unknown = shown.filter((name) => !buttons.includes(name));
            if (unknown.length) {
                throw new Error(`${menu}: smart buttons without a tour step: ${unknown}`);
            }
        },
    };
}

/**
 * Steps visiting one menu.
 * @param {Object} spec
 * @param {string} spec.app the app's menu xmlid
 * @param {string[]} [spec.path] the dropdowns to open before the menu
 * @param {string} spec.menu the menu's xmlid
 * @param {number} [spec.clear] search facets to remove before opening a record
 * @param {string} [spec.group] a group header to unfold before opening a record
 * @param {string} [spec.record] the trigger of the record to open (a row, a card)
 * @param {string[]} [spec.buttons] the smart buttons of that record's form, each clicked
 * @param {string[]} [spec.links] many2one fields of that form whose record is opened
 * @param {string[]} [spec.views] the action's other views, each switched to in turn
 * @param {Object[]} [spec.then] more steps on the menu's view, back where they started
 */
function visitMenu(spec) {
    const path = spec.path || [];
    const steps = [
        stepUtils.showAppsMenuItem(),
        {
            content: `Open the app of ${spec.menu}`,
            trigger: `.o_app[data-menu-xmlid="${spec.app}"]`,
            run: "click",
        },
        ...path.map((xmlid) => ({
            content: `Open the dropdown ${xmlid}`,
            trigger: `.o_menu_sections .dropdown-toggle[data-menu-xmlid="${xmlid}"]`,
            run: "click",
        })),
        ...clickAndWaitForNewView(
            `Open the menu ${spec.menu}`,
            `.o_nav_entry[data-menu-xmlid="${spec.menu}"], .dropdown-item[data-menu-xmlid="${spec.menu}"]`
        ),
        {
            content: `Remember ${spec.menu} as visited`,
            trigger: "body",
            run: () => markVisited(spec.app, ...path, spec.menu),
        },
    ];
    for (let i = 0; i < (spec.clear || 0); i++) {
        steps.push({
            content: `Remove a search facet (${spec.menu})`,
            trigger: ".o_searchview_facet .o_facet_remove",
            run: "click",
        });
    }
    if (spec.clear) {
        steps.push({
            content: `Every record is listed (${spec.menu})`,
            trigger: ".o_searchview:not(:has(.o_searchview_facet))",
        });
    }
    if (spec.group) {
        steps.push({
            content: `Unfold a group (${spec.menu})`,
            trigger: `.o_group_header:contains("${spec.group}")`,
            run: "click",
        });
    }
    if (spec.record) {
        steps.push(
            ...clickAndWaitForNewView(`Open a record of ${spec.menu}`, spec.record),
            {content: `Its form (${spec.menu})`, trigger: ".o_form_view .o_form_sheet"},
            checkSmartButtons(spec.menu, spec.buttons || [])
        );
        for (const button of spec.buttons || []) {
            steps.push(
                ...clickAndWaitForNewView(
                    `Smart button ${button} (${spec.menu})`,
                    `.o_form_view .oe_stat_button[name="${button}"]`
                ),
                ...goBack(button),
                {content: `The form again (${spec.menu})`, trigger: ".o_form_view .o_form_sheet"}
            );
        }
    }
    for (const field of spec.links || []) {
        steps.push(
            ...clickAndWaitForNewView(
                `Open the ${field} of the form (${spec.menu})`,
                `.o_form_view .o_field_widget[name="${field}"] .o_external_button, .o_form_view .o_field_widget[name="${field}"] a.o_form_uri`
            ),
            {content: `The ${field}'s form (${spec.menu})`, trigger: ".o_form_view .o_form_sheet"},
            ...goBack(field),
            {content: `The form again (${spec.menu})`, trigger: ".o_form_view .o_form_sheet"}
        );
    }
    steps.push(...(spec.then || []));
    if (spec.record && spec.views) {
        steps.push(...goBack(`the records of ${spec.menu}`));
    }
    for (const view of spec.views || []) {
        steps.push(
            ...clickAndWaitForNewView(
                `Switch to the ${view} view (${spec.menu})`,
                `.o_control_panel .o_switch_view.o_${view}`
            ),
            {content: `The ${view} view (${spec.menu})`, trigger: `.o_action.o_${view}_view`}
        );
    }
    return steps;
}

// The last step: every menu of the hub this user can see was visited.
function everyMenuVisited() {
    return {
        content: "Every menu of the hub this user sees was visited",
        trigger: "body",
        run() {
            const seen = new Set(visited());
            const missing = odoo.__WOWL_DEBUG__.root.env.services.menu
                .getAll()
                .filter((menu) => (menu.xmlid || "").startsWith("integration_hub"))
                .filter((menu) => !seen.has(menu.xmlid))
                .map((menu) => menu.xmlid);
            if (missing.length) {
                throw new Error(`Menus of the hub no tour step visits: ${missing.join(", ")}`);
            }
            window.sessionStorage.removeItem(VISITED);
        },
    };
}

const firstRow = ".o_list_view .o_data_row:first .o_data_cell:first";
const firstCard = ".o_kanban_view .o_kanban_record:not(.o_kanban_ghost):first";
const rowWith = (text) => `.o_list_view .o_data_row:contains("${text}") .o_data_cell:first`;

const HUB = "integration_hub.integration_hub_menu_root";
const EXCEPTIONS = "integration_hub.integration_exception_menu_top";
const CONFIGURATION = "integration_hub.integration_hub_menu_configuration";
const INVOICING = "account.menu_finance";
const BILLING = "integration_hub_billing.integration_hub_billing_menu";
const INVENTORY = "stock.menu_stock_root";
const SUPPLY = "integration_hub_supply.integration_hub_supply_menu";
const EMPLOYEES = "hr.menu_hr_root";
const HR_REPORTS = "hr.hr_menu_hr_reports";

// The billing clerk's menus (Invoicing > Integration), as the administrator sees them too.
const billingMenus = () => [
    ...visitMenu({
        app: INVOICING,
        path: [BILLING],
        menu: "integration_hub_billing.integration_charge_menu",
        clear: 1,
        record: rowWith("CHG-9001"),
        buttons: ["action_view_invoices"],
    }),
    ...visitMenu({
        app: INVOICING,
        path: [BILLING],
        menu: "integration_hub_billing.integration_exception_menu_billing",
        record: firstRow,
        links: ["message_id", "backend_id"],
        views: ["kanban"],
    }),
    ...visitMenu({
        app: INVOICING,
        path: [BILLING],
        menu: "integration_hub_billing.integration_reconciliation_report_menu",
        views: ["pivot"],
    }),
    ...visitMenu({
        app: INVOICING,
        path: [BILLING],
        menu: "integration_hub_billing.integration_appointment_menu",
        record: firstRow,
    }),
];

// The stock user's menus (Inventory > Integration).
const supplyMenus = () => [
    ...visitMenu({
        app: INVENTORY,
        path: [SUPPLY],
        menu: "integration_hub_supply.integration_supply_consumption_menu",
        record: firstRow,
    }),
    ...visitMenu({
        app: INVENTORY,
        path: [SUPPLY],
        menu: "integration_hub_supply.integration_supply_replenishment_menu",
        record: firstRow,
    }),
    ...visitMenu({
        app: INVENTORY,
        path: [SUPPLY],
        menu: "integration_hub_supply.integration_exception_supply_menu",
        record: firstRow,
        links: ["message_id", "backend_id"],
        views: ["kanban"],
    }),
];

// The Integrations app without its configuration: what every hub user sees.
const operationMenus = () => [
    ...visitMenu({
        app: HUB,
        menu: "integration_hub.integration_backend_menu_overview",
        then: [
            ...clickAndWaitForNewView(
                "A figure of the Overview opens its messages",
                '.o_kanban_record:contains("Demo billing system") a[name="action_overview_open"]'
            ),
            ...goBack("Overview"),
        ],
    }),
    ...visitMenu({app: HUB, menu: "integration_hub.integration_alert_menu"}),
    ...visitMenu({
        app: HUB,
        menu: "integration_hub.integration_message_menu",
        clear: 1,
        record: rowWith("charge.captured"),
        links: ["backend_id"],
        views: ["pivot", "graph"],
    }),
    ...visitMenu({
        app: HUB,
        path: [EXCEPTIONS],
        menu: "integration_hub.integration_exception_menu",
        record: firstCard,
        links: ["message_id", "backend_id"],
        views: ["list"],
    }),
    ...visitMenu({app: HUB, path: [EXCEPTIONS], menu: "integration_hub.integration_exception_menu_my"}),
    ...visitMenu({app: HUB, path: [EXCEPTIONS], menu: "integration_hub.integration_issue_menu"}),
];

registry.category("web_tour.tours").add("integration_hub_admin_every_menu", {
    url: "/odoo",
    steps: () => [
        ...operationMenus(),
        ...visitMenu({
            app: HUB,
            menu: "integration_hub.integration_message_bulk_run_menu",
            record: firstRow,
        }),
        ...visitMenu({
            app: HUB,
            path: [CONFIGURATION],
            menu: "integration_hub.integration_backend_menu",
            record: rowWith("Demo billing system"),
            buttons: ["action_view_messages", "action_view_exceptions", "action_view_charges"],
        }),
        ...visitMenu({
            app: HUB,
            path: [CONFIGURATION],
            menu: "integration_hub.integration_endpoint_menu",
            record: rowWith("demo-billing"),
        }),
        ...visitMenu({
            app: HUB,
            path: [CONFIGURATION],
            menu: "integration_hub.integration_subscription_menu",
            record: firstRow,
            buttons: ["action_view_messages"],
        }),
        ...visitMenu({
            app: HUB,
            path: [CONFIGURATION],
            menu: "integration_hub.integration_exception_rule_menu",
        }),
        ...visitMenu({
            app: HUB,
            path: [CONFIGURATION],
            menu: "integration_hub.integration_team_menu",
            record: firstRow,
        }),
        ...visitMenu({
            app: HUB,
            path: [CONFIGURATION],
            menu: "integration_hub.integration_alert_rule_menu",
            record: firstRow,
        }),
        ...visitMenu({
            app: HUB,
            path: [CONFIGURATION],
            menu: "integration_hub.integration_review_rule_menu",
            record: firstRow,
        }),
        ...visitMenu({app: HUB, path: [CONFIGURATION], menu: "integration_hub.integration_code_map_menu"}),
        ...visitMenu({
            app: HUB,
            path: [CONFIGURATION],
            menu: "integration_hub.integration_code_kind_menu",
            record: firstRow,
        }),
        ...visitMenu({app: HUB, path: [CONFIGURATION], menu: "integration_hub.integration_binding_menu"}),
        ...visitMenu({
            app: HUB,
            path: [CONFIGURATION],
            menu: "integration_hub.integration_event_type_menu",
            record: firstRow,
        }),
        ...visitMenu({
            app: HUB,
            path: [CONFIGURATION],
            menu: "integration_hub.integration_feed_menu",
            record: firstRow,
        }),
        ...visitMenu({
            app: HUB,
            path: [CONFIGURATION],
            menu: "integration_hub.integration_import_menu",
            record: firstRow,
        }),
        ...billingMenus(),
        ...supplyMenus(),
        ...visitMenu({
            app: EMPLOYEES,
            path: [HR_REPORTS],
            menu: "integration_hub_workforce.integration_workforce_report_menu",
            views: ["graph", "list"],
        }),
        ...visitMenu({
            app: EMPLOYEES,
            path: [HR_REPORTS],
            menu: "integration_hub_workforce.integration_workforce_gap_menu",
            views: ["pivot"],
        }),
        ...visitMenu({
            app: EMPLOYEES,
            path: [HR_REPORTS],
            menu: "integration_hub_workforce.integration_exception_menu_workforce",
        }),
        everyMenuVisited(),
    ],
});

// Takes the exception shown and resolves its unmapped code with the one wizard.
function takeAndMapCode(code, product, user) {
    return [
        {
            content: `The exception explains the unknown code ${code}`,
            trigger: `.o_form_view .alert:contains("${code}")`,
        },
        {
            content: "Take it",
            trigger: '.o_form_view button[name="action_take"]',
            run: "click",
        },
        {
            content: `It is ${user}'s, in progress`,
            trigger: `.o_form_view:has(.o_field_widget[name="user_id"] input:value("${user}")) .o_statusbar_status .o_arrow_button_current:contains("In progress")`,
        },
        noErrorDialog(`taking the exception of ${code}`),
        {
            content: "Map code and retry",
            trigger: "button.o_integration_hub_map_code",
            run: "click",
        },
        {
            content: `Pick ${product}`,
            trigger: '.modal .o_field_widget[name="res_id"] input',
            run: `edit ${product}`,
        },
        {
            content: `Choose ${product}`,
            trigger: `.ui-menu-item a:contains("${product}")`,
            run: "click",
        },
        {
            content: "Map and retry",
            trigger: '.modal button[name="action_map_and_retry"]',
            run: "click",
        },
        {
            content: "The wizard closed: the message is queued again",
            trigger: "body:not(:has(.modal))",
        },
        noErrorDialog(`mapping ${code}`),
        {
            content: "The exception is in progress",
            trigger: '.o_statusbar_status .o_arrow_button_current:contains("In progress")',
        },
    ];
}

// Approves the "needs review" exception shown, through the button's confirmation.
function approveReview(reference, user) {
    return [
        {
            content: `The exception of ${reference} needs review`,
            trigger: '.o_form_view .o_statusbar_status .o_arrow_button_current:contains("Open")',
        },
        {
            content: "Approve and post",
            trigger: '.o_form_view button[name="action_approve"]',
            run: "click",
        },
        {
            content: "Confirm",
            trigger: '.modal:contains("past its review rule") .modal-footer button.btn-primary',
            run: "click",
        },
        {
            content: "The confirmation closed",
            trigger: "body:not(:has(.modal))",
        },
        noErrorDialog(`approving ${reference}`),
        {
            content: `Approved by ${user}, in progress until the message is processed`,
            trigger: `.o_form_view:has(.o_field_widget[name="approved_by_id"]:contains("${user}")) .o_statusbar_status .o_arrow_button_current:contains("In progress")`,
        },
        {
            content: "Approve and Reject are gone",
            trigger: '.o_form_view .o_form_statusbar:not(:has(button[name="action_approve"], button[name="action_reject"]))',
        },
    ];
}

// An Invoicing-only user without an e-mail address.
registry.category("web_tour.tours").add("integration_hub_finance_every_menu", {
    url: "/odoo",
    steps: () => [
        ...billingMenus(),
        ...visitMenu({
            app: INVOICING,
            path: [BILLING],
            menu: "integration_hub_billing.integration_exception_menu_billing",
            record: rowWith("TOUR-SVC"),
        }),
        ...takeAndMapCode("TOUR-SVC", "Tour visit", "Finance Clerk"),
        ...visitMenu({
            app: INVOICING,
            path: [BILLING],
            menu: "integration_hub_billing.integration_exception_menu_billing",
            record: rowWith("Needs review"),
        }),
        ...approveReview("CHG-REVIEW", "Finance Clerk"),
        everyMenuVisited(),
    ],
});

// A stock user without an e-mail address.
registry.category("web_tour.tours").add("integration_hub_stock_every_menu", {
    url: "/odoo",
    steps: () => [
        ...supplyMenus(),
        ...visitMenu({
            app: INVENTORY,
            path: [SUPPLY],
            menu: "integration_hub_supply.integration_exception_supply_menu",
            record: rowWith("TOUR-SKU"),
        }),
        ...takeAndMapCode("TOUR-SKU", "Tour gloves", "Stock Clerk"),
        everyMenuVisited(),
    ],
});

// An Integrations user (no configuration rights, no job queue rights, no e-mail address).
registry.category("web_tour.tours").add("integration_hub_user_every_menu", {
    url: "/odoo",
    steps: () => [...operationMenus(), everyMenuVisited()],
});
