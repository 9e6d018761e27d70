import json
from datetime import timedelta

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged

from .common import IntegrationHubCase, RealRequestsMixin, contact_event


@tagged("post_install", "-at_install")
class TestAlerts(RealRequestsMixin, IntegrationHubCase, TransactionCase):
    """Alert rules fire once per episode, tell the owner and a subscribed receiver
    (a real HTTP server, tests/receiver.py), show on the Overview and clear themselves."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hub()
        cls.env["integration.alert.rule"].search([]).write({"active": False})
        cls.owner = cls.env["res.users"].create(
            {
                "name": "Backend owner",
                "login": "alerts-owner",
                "groups_id": [(4, cls.env.ref("integration_hub.integration_hub_group_user").id)],
            }
        )
        cls.backend.write({"latency_tier": "realtime", "user_id": cls.owner.id})
        # A chat or pager webhook: its own backend, subscribed to hub.alert.
        cls.pager = cls._create_backend(name="Pager", system_type="other")
        cls.receiver = cls._serve_outbound(cls.pager, path="/alerts")
        cls.env["integration.subscription"].create(
            {
                "backend_id": cls.pager.id,
                "event_type_id": cls.env.ref(
                    "integration_hub.integration_event_type_hub_alert_out"
                ).id,
            }
        )

    def setUp(self):
        super().setUp()
        self.receiver.requests.clear()

    def _rule(self, condition, **values):
        return self.env["integration.alert.rule"].create(
            dict({"name": f"Test {condition}", "condition": condition}, **values)
            | {"backend_id": values.get("backend_id", self.backend.id)}
        )

    def _evaluate(self):
        """One cron run, then what its commit runs: the hub.alert messages it emitted."""
        last = self.env["integration.message"].search([], order="id desc", limit=1).id or 0
        self.env["integration.alert.rule"]._cron_evaluate()
        self._end_transaction()
        return self.env["integration.message"].search(
            [("id", ">", last), ("event_type", "=", "hub.alert")]
        )

    def _alerts(self, rule):
        return self.env["integration.alert"].search([("rule_id", "=", rule.id)])

    def _messages(self, states, age=None):
        messages = self.env["integration.message"]
        for i, state in enumerate(states):
            message = self._create_message(contact_event(f"A-{i}-{state}"))
            message.write({"state": state})
            messages |= message
        self.env.flush_all()
        if age:
            self.env.cr.execute(
                "UPDATE integration_message SET create_date = %s WHERE id IN %s",
                (fields.Datetime.now() - age, tuple(messages.ids)),
            )
            self.env.invalidate_all()
        return messages

    def _assert_episode(self, rule, state, activities):
        alert = self._alerts(rule)
        self.assertEqual(len(alert), 1, "one alert per episode")
        self.assertEqual(alert.state, state)
        self.assertEqual(len(alert.activity_ids), activities)
        return alert

    def test_late_backlog_fires_once_tells_the_owner_and_the_receiver_then_resolves(self):
        rule = self._rule("late")
        waiting = self._messages(["queued"], age=timedelta(hours=2))
        fired = self._evaluate()
        alert = self._assert_episode(rule, "firing", activities=1)
        self.assertEqual(alert.activity_ids.user_id, self.owner)
        self.assertGreaterEqual(alert.value, 119)
        self.assertEqual(alert.threshold, 5, "the real-time tier's target")
        self.assertEqual(len(fired), 1)
        # The cron looks again while it still holds: nobody is told twice.
        self.assertFalse(self._evaluate())
        self._assert_episode(rule, "firing", activities=1)
        # The backlog clears: the alert resolves itself and closes its activity.
        waiting.write({"state": "done"})
        resolved = self._evaluate()
        alert = self._assert_episode(rule, "resolved", activities=0)
        self.assertTrue(alert.resolved_at)
        self.assertTrue(alert.fired_at <= alert.resolved_at)
        self.assertEqual(len(resolved), 1)
        # Both events reach the subscribed receiver, signed, with the figures only.
        for message in fired | resolved:
            self._perform_job(message)
            self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(len(self.receiver.requests), 2)
        self.assertTrue(all(r.verified for r in self.receiver.requests))
        self.assertEqual({r.path for r in self.receiver.requests}, {"/alerts"})
        sent = sorted((r.json for r in self.receiver.requests), key=lambda b: b["data"]["status"])
        self.assertEqual([b["type"] for b in sent], ["hub.alert", "hub.alert"])
        firing, done = sent[0]["data"], sent[1]["data"]
        self.assertEqual((firing["status"], done["status"]), ("firing", "resolved"))
        self.assertEqual(firing["backend"], self.backend.code)
        self.assertEqual(firing["condition"], "late")
        self.assertEqual(firing["rule"], rule.name)
        self.assertEqual(firing["threshold"], "5.00")
        self.assertTrue(firing["fired_at"].endswith("Z"))
        self.assertIsNone(firing["resolved_at"])
        self.assertTrue(done["resolved_at"])
        self.assertEqual(
            set(firing),
            {
                "id",
                "title",
                "rule",
                "backend",
                "condition",
                "status",
                "value",
                "threshold",
                "fired_at",
                "resolved_at",
            },
        )

    def test_dead_messages_over_n_fire_and_clear(self):
        rule = self._rule("dead", threshold=1)
        dead = self._messages(["dead"])
        self.assertFalse(self._evaluate(), "one dead message is not over 1")
        self.assertFalse(self._alerts(rule))
        dead |= self._messages(["dead"])
        self.assertEqual(len(self._evaluate()), 1)
        alert = self._assert_episode(rule, "firing", activities=1)
        self.assertEqual((alert.value, alert.threshold), (2, 1))
        dead.action_cancel()
        self.assertEqual(len(self._evaluate()), 1)
        self._assert_episode(rule, "resolved", activities=0)

    def test_open_circuit_fires_and_closing_it_resolves(self):
        rule = self._rule("circuit_open")
        self.backend.circuit_failure_threshold = 1
        self.backend._circuit_record(success=False)
        self.backend.invalidate_recordset()
        self.assertEqual(len(self._evaluate()), 1)
        self._assert_episode(rule, "firing", activities=1)
        self.backend._circuit_record(success=True)
        self.backend.invalidate_recordset()
        self.assertEqual(len(self._evaluate()), 1)
        self._assert_episode(rule, "resolved", activities=0)

    def test_failure_rate_over_threshold_fires_and_clears(self):
        rule = self._rule("failure_rate", threshold=30)
        messages = self._messages(["done", "done", "exception"])
        self.assertEqual(len(self._evaluate()), 1)
        alert = self._assert_episode(rule, "firing", activities=1)
        self.assertAlmostEqual(alert.value, 33.33, places=2)
        messages.filtered(lambda m: m.state == "exception").write({"state": "done"})
        self.assertEqual(len(self._evaluate()), 1)
        self._assert_episode(rule, "resolved", activities=0)

    def test_a_condition_must_hold_for_the_rule_s_time_before_it_fires(self):
        rule = self._rule("dead", threshold=0, hold_minutes=30)
        dead = self._messages(["dead"])
        self.assertFalse(self._evaluate())
        alert = self._assert_episode(rule, "pending", activities=0)
        self.assertEqual(self.backend.overview_alert_count, 0, "holding is not firing")
        self.assertFalse(self._evaluate(), "still under 30 minutes")
        alert.since = fields.Datetime.now() - timedelta(minutes=31)
        self.assertEqual(len(self._evaluate()), 1)
        self._assert_episode(rule, "firing", activities=1)
        # A condition that clears while holding is forgotten: nobody was told.
        rule2 = self._rule("dead", threshold=0, hold_minutes=30, name="Second")
        self._evaluate()
        self.assertEqual(self._alerts(rule2).state, "pending")
        dead.action_cancel()
        self.assertEqual(len(self._evaluate()), 1, "only the fired rule says resolved")
        self.assertFalse(self._alerts(rule2))

    def test_a_new_episode_after_a_resolved_one_fires_again(self):
        rule = self._rule("dead", threshold=0)
        self._messages(["dead"]).action_cancel()
        self._messages(["dead"])
        self._evaluate()
        self.env["integration.message"].search(
            [("backend_id", "=", self.backend.id), ("state", "=", "dead")]
        ).action_cancel()
        self._evaluate()
        self._messages(["dead"])
        self.assertEqual(len(self._evaluate()), 1)
        alerts = self._alerts(rule)
        self.assertEqual(sorted(alerts.mapped("state")), ["firing", "resolved"])

    def test_overview_card_counts_firing_alerts_and_opens_them(self):
        rule = self._rule("dead", threshold=0)
        self._messages(["dead"])
        self._evaluate()
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.overview_alert_count, 1)
        action = self.backend.with_context(figure="alerts").action_overview_open()
        self.assertEqual(action["res_model"], "integration.alert")
        domain = action["domain"] + [("state", "=", "firing")]
        self.assertEqual(self.env["integration.alert"].search(domain), self._alerts(rule))

    def test_a_global_rule_watches_every_active_backend_of_its_company(self):
        other = self._create_backend(name="Other")
        draft = self._create_backend(name="Draft", state="draft")
        rule = self._rule("dead", threshold=0, backend_id=False)
        for backend in (other, draft):
            self._create_message(contact_event("G-1"), self._create_endpoint(backend)).write(
                {"state": "dead"}
            )
        self._evaluate()
        firing = self._alerts(rule).filtered(lambda a: a.state == "firing")
        self.assertEqual(firing.backend_id, other)

    def test_gap_rule_needs_its_gap(self):
        with self.assertRaises(ValidationError):
            self._rule("gap", threshold=1)

    def test_the_rule_s_user_is_told_instead_of_the_owner(self):
        rule = self._rule("dead", threshold=0, user_id=self.env.user.id)
        self._messages(["dead"])
        self._evaluate()
        alert = self._assert_episode(rule, "firing", activities=1)
        self.assertEqual(alert.activity_ids.user_id, self.env.user)
        self.assertIn(self.backend.name, alert.activity_ids.summary)
        self.assertIn("(1, above 0)", alert.activity_ids.summary)
        body = json.loads(
            self.env["integration.message"]
            .search([("event_type", "=", "hub.alert")], order="id desc", limit=1)
            .payload
        )
        self.assertEqual(body["data"]["status"], "firing")

    def test_an_archived_rule_s_firing_alert_resolves_and_its_holding_one_is_forgotten(self):
        rule = self._rule("dead", threshold=0)
        holding = self._rule("dead", threshold=0, hold_minutes=60, name="Holding")
        self._messages(["dead"])
        self._evaluate()
        self.assertEqual(
            (self._alerts(rule).state, self._alerts(holding).state), ("firing", "pending")
        )
        (rule | holding).active = False
        self.assertEqual(len(self._evaluate()), 1, "resolved is said once, for the fired one")
        self._assert_episode(rule, "resolved", activities=0)
        self.assertFalse(self._alerts(holding))

    def test_an_evaluation_costs_as_many_queries_for_one_backend_as_for_many(self):
        self._rule("dead", threshold=5, backend_id=False)
        self._rule("late", backend_id=False)
        self._rule("failure_rate", threshold=50, backend_id=False)

        def queries():
            self._evaluate()  # new backends' first figures
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            self.env["integration.alert.rule"]._cron_evaluate()
            self.env.flush_all()
            return self.env.cr.sql_log_count - before

        few = queries()
        for i in range(10):
            self._create_backend(name=f"More {i}")
        self.assertEqual(queries(), few, "the Overview's queries run once for all backends")
