"""Open exceptions keep their unmapped code when the flows move onto the core's one
pair of fields (code_kind_id, external_code).

Before 18.0.1.1.0 billing kept ``unmapped_code_kind``/``unmapped_code`` and supply
``code_kind``/``external_code`` on integration.exception. Odoo keeps the columns of
removed fields, so they are read here, at the end of the update, once the flows have
declared their code kinds (integration.code.kind) as data.

Messages stored before they had a business reference get it from their payload.
"""

import json

from odoo import SUPERUSER_ID, api


def _has_column(cr, column):
    cr.execute(
        """SELECT 1 FROM information_schema.columns
            WHERE table_name = 'integration_exception' AND column_name = %s""",
        [column],
    )
    return bool(cr.fetchone())


def migrate(cr, version):
    if _has_column(cr, "unmapped_code_kind"):  # billing
        cr.execute(
            """UPDATE integration_exception x
                  SET code_kind_id = k.id, external_code = x.unmapped_code
                 FROM integration_code_kind k
                WHERE k.code = x.unmapped_code_kind AND x.code_kind_id IS NULL"""
        )
    if _has_column(cr, "code_kind"):  # supply (external_code kept its column)
        cr.execute(
            """UPDATE integration_exception x
                  SET code_kind_id = k.id
                 FROM integration_code_kind k
                WHERE k.code = x.code_kind AND x.code_kind_id IS NULL"""
        )
    _name_messages_by_reference(cr)


def _name_messages_by_reference(cr):
    """Messages stored before the business reference existed get it from their
    payload, so they and their exceptions are named by it ("CHG-9002 ·
    charge.captured"), not by the sender's technical id."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    messages = env["integration.message"]
    last_id, exception_ids = 0, []
    while True:
        cr.execute(
            """SELECT id, payload FROM integration_message
                WHERE reference IS NULL AND payload IS NOT NULL AND id > %s
                ORDER BY id LIMIT 5000""",
            [last_id],
        )
        rows = cr.fetchall()
        if not rows:
            break
        last_id = rows[-1][0]
        values = []
        for message_id, body in rows:
            try:
                envelope = json.loads(body)
            except ValueError:
                continue  # not JSON (e.g. a raw HL7 message): nothing to name it by
            data = envelope.get("data") if isinstance(envelope, dict) else None
            reference = messages._reference_of(data)
            if reference:
                values.append((message_id, reference))
        if values:
            ids = [message_id for message_id, _reference in values]
            cr.execute(
                """UPDATE integration_message m SET reference = v.reference
                     FROM unnest(%s::int[], %s::varchar[]) AS v(id, reference)
                    WHERE m.id = v.id""",
                [ids, [reference for _message_id, reference in values]],
            )
            cr.execute("SELECT id FROM integration_exception WHERE message_id = ANY(%s)", [ids])
            exception_ids.extend(row[0] for row in cr.fetchall())
    # The exceptions' stored names follow their messages' names.
    exceptions = env["integration.exception"].browse(exception_ids)
    env.add_to_compute(exceptions._fields["name"], exceptions)
    exceptions.flush_recordset(["name"])
