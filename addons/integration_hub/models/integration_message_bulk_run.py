from odoo import api, fields, models

# Messages one job replays or cancels: a job stays short, thousands go as many jobs.
CHUNK_SIZE = 500


class IntegrationMessageBulkRun(models.Model):
    """A bulk replay or cancel of more messages than one request should handle (a
    filter's thousands of dead messages): one job per chunk, with its progress."""

    _name = "integration.message.bulk.run"
    _description = "Bulk Replay or Cancel"
    _order = "id desc"

    name = fields.Char(compute="_compute_name")
    operation = fields.Selection(
        [("replay", "Replay"), ("cancel", "Cancel")], required=True, readonly=True
    )
    include_done = fields.Boolean(string="Done messages sent again", readonly=True)
    selection_description = fields.Text(
        string="Selected", readonly=True, help="The messages selected, counted by state."
    )
    message_count = fields.Integer(
        string="To change", readonly=True, help="Applicable messages when it started."
    )
    chunk_count = fields.Integer(string="Jobs", readonly=True)
    chunk_done_count = fields.Integer(string="Jobs done", default=0, readonly=True)
    done_count = fields.Integer(string="Changed", default=0, readonly=True)
    skipped_count = fields.Integer(
        string="Left as they were",
        default=0,
        readonly=True,
        help="Messages that changed state since the selection (processed meanwhile), or "
        "ignored ones whose endpoint does not accept their type.",
    )
    progress = fields.Float(compute="_compute_progress", string="Progress (%)")
    state = fields.Selection(
        [("running", "Running"), ("done", "Done")], required=True, default="running", readonly=True
    )

    @api.depends("operation", "message_count")
    def _compute_name(self):
        operations = dict(self._fields["operation"]._description_selection(self.env))
        for run in self:
            run.name = self.env._(
                "%(operation)s %(count)s messages",
                operation=operations.get(run.operation, ""),
                count=run.message_count,
            )

    @api.depends("message_count", "done_count", "skipped_count")
    def _compute_progress(self):
        for run in self:
            handled = run.done_count + run.skipped_count
            run.progress = 100.0 * handled / run.message_count if run.message_count else 100.0

    @api.model
    def _start(self, operation, messages, include_done=False, description=None):
        """Queue one job per chunk of ``messages`` (oldest first); returns the run."""
        ids = sorted(messages.ids)
        chunks = [ids[i : i + CHUNK_SIZE] for i in range(0, len(ids), CHUNK_SIZE)]
        run = self.create(
            {
                "operation": operation,
                "include_done": include_done,
                "selection_description": description,
                "message_count": len(ids),
                "chunk_count": len(chunks),
                "state": "running" if chunks else "done",
            }
        )
        for number, chunk in enumerate(chunks, start=1):
            # Runs in the name of the person who asked, as their replay or cancel would.
            run.with_delay(
                channel="root.integration",
                identity_key=f"integration.message.bulk.run,{run.id},{number}",
                description=f"{run.name}: part {number} of {len(chunks)}",
            )._job_run_chunk(chunk)
        return run

    def _job_run_chunk(self, message_ids):
        """Replay or cancel one chunk of messages of a bulk run"""
        self.ensure_one()
        messages = self.env["integration.message"].browse(message_ids).exists()
        # Still applicable now: a message processed since the selection is left alone.
        applicable = messages.filtered_domain(
            messages._bulk_domain(self.operation, self.include_done)
        )
        refused = applicable._bulk_apply(self.operation)
        changed = len(applicable) - refused
        skipped = len(message_ids) - changed
        # Chunks may run in parallel: add to the counters in the database.
        self.env.flush_all()
        self.env.cr.execute(
            """UPDATE integration_message_bulk_run
                  SET done_count = done_count + %s,
                      skipped_count = skipped_count + %s,
                      chunk_done_count = chunk_done_count + 1,
                      state = CASE WHEN chunk_done_count + 1 >= chunk_count
                              THEN 'done' ELSE state END
                WHERE id = %s""",
            [changed, skipped, self.id],
        )
        self.invalidate_recordset()
        return f"{changed} changed, {skipped} left as they were"
