from odoo.tests import TransactionCase, tagged

from .common import IntegrationHubCase, contact_event


@tagged("post_install", "-at_install")
class TestOverview(IntegrationHubCase, TransactionCase):
    """The Overview card's figures, and the lists they open."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_hub()
        cls.backend.latency_tier = "realtime"
        states = ["done", "done", "dead", "exception", "queued", "retrying"]
        cls.messages = [cls._create_message(contact_event(f"C-{i}")) for i in range(len(states))]
        for message, state in zip(cls.messages, states, strict=True):
            message.write({"state": state})
        cls.env.flush_all()
        # The queued message has waited two hours; one done message is from yesterday.
        cls.env.cr.execute(
            "UPDATE integration_message SET create_date = now() at time zone 'utc' - "
            "interval '2 hours' WHERE id = %s",
            (cls.messages[4].id,),
        )
        cls.env.cr.execute(
            "UPDATE integration_message SET create_date = now() at time zone 'utc' - "
            "interval '2 days' WHERE id = %s",
            (cls.messages[0].id,),
        )
        cls.env.invalidate_all()

    def _open(self, figure):
        action = self.backend.with_context(figure=figure).action_overview_open()
        return self.env[action["res_model"]].search(action["domain"])

    def test_overview_counts_recent_traffic_failures_backlog_and_lateness(self):
        backend = self.backend
        self.assertEqual(backend.overview_day_count, 5)
        self.assertEqual(backend.overview_hour_count, 4)
        self.assertAlmostEqual(backend.overview_failure_rate, 40.0)
        self.assertEqual(backend.overview_backlog_count, 2)
        self.assertEqual(backend.overview_dead_count, 1)
        self.assertGreaterEqual(backend.overview_oldest_minutes, 119)
        self.assertEqual(backend.overview_target_minutes, 5)
        self.assertTrue(backend.overview_late, "two hours is late for a real-time backend")

    def test_tier_target_is_configurable(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "integration_hub.tier_target_minutes.realtime", "180"
        )
        self.backend.invalidate_recordset()
        self.assertFalse(self.backend.overview_late)

    def test_each_figure_opens_the_messages_it_counts(self):
        m = self.messages
        self.assertEqual(set(self._open("backlog").ids), {m[4].id, m[5].id})
        self.assertEqual(set(self._open("dead").ids), {m[2].id})
        self.assertEqual(set(self._open("failed").ids), {m[2].id, m[3].id})
        self.assertEqual(len(self._open("day")), 5)
        self.assertEqual(len(self._open("hour")), 4)
