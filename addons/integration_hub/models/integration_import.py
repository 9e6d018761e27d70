import base64
import json
from datetime import UTC, datetime

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import fileimport
from .integration_endpoint_items import INTAKE_JOB_PRIORITY
from .integration_event_type import validation_errors

PREVIEW_ROWS = 10
MAX_REFUSALS_KEPT = 200


class IntegrationImport(models.Model):
    """A file of events (CSV or JSON lines) for one event type, imported into messages.

    The upload shows a preview of its first rows with their validation errors; *Import*
    then stores each row as a message on the backend's channel, in jobs of
    ``chunk_size`` rows, so that large files never hold the browser's request. Rows
    with an id already received are duplicates, stored once.
    """

    _name = "integration.import"
    _description = "Integration File Import"
    _order = "id desc"

    name = fields.Char(compute="_compute_name", store=True)
    endpoint_id = fields.Many2one("integration.endpoint", required=True, ondelete="cascade")
    backend_id = fields.Many2one(related="endpoint_id.backend_id", store=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    event_type_id = fields.Many2one(
        "integration.event.type",
        required=True,
        domain="[('id', 'in', allowed_event_type_ids)]",
        help="Each row is the data of one event of this type.",
    )
    allowed_event_type_ids = fields.Many2many(related="endpoint_id.event_type_ids")
    file = fields.Binary(required=True, attachment=True)
    file_name = fields.Char()
    file_format = fields.Selection(
        [
            ("csv", "CSV (header line of data keys)"),
            ("jsonl", "JSON lines (one data object a line)"),
        ],
        compute="_compute_file_format",
        store=True,
        readonly=False,
        required=True,
        precompute=True,
    )
    state = fields.Selection(
        [("draft", "Preview"), ("importing", "Importing"), ("done", "Done")],
        default="draft",
        required=True,
        readonly=True,
    )
    preview = fields.Html(compute="_compute_preview", sanitize=False)
    chunk_size = fields.Integer(default=1000, required=True)
    row_count = fields.Integer(readonly=True)
    chunk_count = fields.Integer(readonly=True)
    chunk_done_count = fields.Integer(readonly=True)
    accepted_count = fields.Integer(string="Accepted", readonly=True)
    refused_count = fields.Integer(string="Refused", readonly=True)
    duplicate_count = fields.Integer(string="Duplicates", readonly=True)
    progress = fields.Float(compute="_compute_progress")
    refusals = fields.Text(readonly=True, help="Refused rows: their number and the reason.")

    _sql_constraints = [
        ("chunk_size_positive", "CHECK(chunk_size > 0)", "The chunk size must be positive.")
    ]

    @api.depends("file_name", "event_type_id")
    def _compute_name(self):
        for record in self:
            record.name = f"{record.file_name or '?'} · {record.event_type_id.code or '?'}"

    @api.depends("file_name")
    def _compute_file_format(self):
        for record in self:
            record.file_format = fileimport.detect_format(record.file_name)

    @api.depends("chunk_count", "chunk_done_count", "state")
    def _compute_progress(self):
        for record in self:
            if record.state == "done":
                record.progress = 100.0
            elif record.chunk_count:
                record.progress = 100.0 * record.chunk_done_count / record.chunk_count
            else:
                record.progress = 0.0

    # Reading ------------------------------------------------------------------

    def _content(self):
        # The web client reads with bin_size: the file is then its size, not its content.
        return base64.b64decode(self.with_context(bin_size=False).file or b"")

    def _schema(self):
        return json.loads(self.event_type_id.schema_json)

    def _rows(self, start=1):
        self.ensure_one()
        return fileimport.iter_rows(self._content(), self.file_format, self._schema(), start)

    def _row_problem(self, data, validator):
        if isinstance(data, fileimport.RowError):
            return str(data)
        errors = validation_errors(validator, data)
        return errors[0] if errors else None

    @api.depends("file", "file_format", "event_type_id")
    def _compute_preview(self):
        for record in self:
            if not record.file or not record.event_type_id:
                record.preview = False
                continue
            validator = record.event_type_id._validator()
            lines = []
            try:
                for number, data in record._rows():
                    if number > PREVIEW_ROWS:
                        break
                    problem = record._row_problem(data, validator)
                    shown = "" if isinstance(data, fileimport.RowError) else json.dumps(data)
                    lines.append(
                        Markup("<tr><td>%s</td><td><code>%s</code></td><td class='%s'>%s</td></tr>")
                        % (
                            number,
                            shown[:300],
                            "text-danger" if problem else "text-success",
                            problem or self.env._("valid"),
                        )
                    )
            except fileimport.RowError as exc:
                record.preview = Markup("<p class='text-danger'>%s</p>") % str(exc)
                continue
            record.preview = (
                Markup(
                    "<table class='table table-sm'><thead><tr><th>%s</th><th>%s</th><th>%s</th>"
                    "</tr></thead><tbody>"
                )
                % (self.env._("Row"), self.env._("Data"), self.env._("Validation"))
                + Markup("").join(lines)
                + Markup("</tbody></table>")
            )

    # Importing ----------------------------------------------------------------

    def action_import(self):
        """Count the rows and queue the job of the first chunk of rows."""
        for record in self:
            if record.state != "draft":
                raise UserError(self.env._("%(name)s is already imported.", name=record.name))
            if record.event_type_id not in record.endpoint_id.event_type_ids:
                raise UserError(
                    self.env._(
                        "Endpoint %(endpoint)s does not accept %(type)s.",
                        endpoint=record.endpoint_id.name,
                        type=record.event_type_id.code,
                    )
                )
            try:
                rows = fileimport.count_rows(record._content(), record.file_format)
            except fileimport.RowError as exc:
                raise UserError(str(exc)) from exc
            chunks = max(1, -(-rows // record.chunk_size))
            record.write(
                {
                    "state": "importing",
                    "row_count": rows,
                    "chunk_count": chunks,
                    "chunk_done_count": 0,
                }
            )
            record._enqueue_chunk(1)
        return True

    def _enqueue_chunk(self, start):
        """Queue the job importing the rows from ``start``. One chunk at a time, each
        queuing the next when it commits: parallel chunks would all update this
        import's counters, and all but one would fail to serialize and redo their rows
        (the rows' own processing jobs still run in parallel)."""
        self.ensure_one()
        hub_env = self.env(user=self.env["integration.endpoint"]._webhook_uid(), su=True)
        stop = start + self.chunk_size
        return (
            self.with_env(hub_env)
            .with_delay(
                channel=self.backend_id.sudo().channel_id.complete_name or "root.integration",
                identity_key=f"integration.import,{self.id},{start}",
                priority=INTAKE_JOB_PRIORITY,
                description=f"Import rows {start}-{stop - 1} of {self.name}",
            )
            ._job_import_chunk(start, stop)
        )

    def _job_import_chunk(self, start, stop):
        """Import a chunk of a file's rows"""
        self.ensure_one()
        if self.state != "importing":
            return f"Nothing to do: the import is {self.state}."
        if (start - 1) // self.chunk_size < self.chunk_done_count:
            return f"Nothing to do: rows {start}-{stop - 1} are imported."
        endpoint = self.endpoint_id
        code = self.event_type_id.code
        timestamp = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        counts = {"stored": 0, "duplicate": 0, "refused": 0}
        refusals = []
        tickets = endpoint._ticket_stream()
        for number, data in self._rows(start):
            if number >= stop:
                break
            if isinstance(data, fileimport.RowError):
                outcome, detail = "refused", str(data)
            else:
                envelope = {"type": code, "timestamp": timestamp, "data": data}
                # The row, not the envelope dated now, is what another file may hold again.
                outcome, detail = endpoint._store_item(
                    fileimport.row_message_id(self.id, number, data),
                    envelope,
                    {"type": code, "data": data},
                    tickets,
                )
            counts[outcome] += 1
            if outcome == "refused":
                refusals.append(f"row {number}: {detail}"[:300])
        # Chunks run in parallel: add to the counters in the database, not in Python.
        self.env.flush_all()
        self.env.cr.execute(
            """UPDATE integration_import
                  SET accepted_count = COALESCE(accepted_count, 0) + %s,
                      duplicate_count = COALESCE(duplicate_count, 0) + %s,
                      refused_count = COALESCE(refused_count, 0) + %s,
                      chunk_done_count = COALESCE(chunk_done_count, 0) + 1,
                      refusals = CASE WHEN COALESCE(refused_count, 0) >= %s THEN refusals
                                 ELSE concat_ws(E'\\n', NULLIF(refusals, ''), %s) END,
                      state = CASE WHEN COALESCE(chunk_done_count, 0) + 1 >= chunk_count
                              THEN 'done' ELSE state END
                WHERE id = %s""",
            [
                counts["stored"],
                counts["duplicate"],
                counts["refused"],
                MAX_REFUSALS_KEPT,
                "\n".join(refusals) or None,
                self.id,
            ],
        )
        self.invalidate_recordset()
        if self.state == "importing":
            self._enqueue_chunk(stop)
        return (
            f"{counts['stored']} accepted, {counts['duplicate']} duplicates, "
            f"{counts['refused']} refused"
        )
