"""Open exceptions keep their unmapped code when the flows move onto the core's one
pair of fields (code_kind_id, external_code).

Before 18.0.1.1.0 billing kept ``unmapped_code_kind``/``unmapped_code`` and supply
``code_kind``/``external_code`` on integration.exception. Odoo keeps the columns of
removed fields, so they are read here, at the end of the update, once the flows have
declared their code kinds (integration.code.kind) as data.
"""


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
