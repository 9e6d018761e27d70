"""Patients stored before 18.0.1.2.0 are marked as patients, so that the need-to-know
rules hide them from other employees as they hide the new ones.

A patient is a contact a ``patient.upserted`` (or ``patient.merged``) message bound, or
one an appointment or a charge names as its patient.
"""


def migrate(cr, version):
    cr.execute(
        """UPDATE res_partner p
              SET integration_patient = TRUE
            WHERE p.integration_patient IS NOT TRUE
              AND (p.id IN (SELECT b.res_id
                              FROM integration_binding b
                              JOIN integration_message m ON m.id = b.last_message_id
                             WHERE b.res_model = 'res.partner'
                               AND m.event_type IN ('patient.upserted', 'patient.merged'))
                   OR p.id IN (SELECT patient_id FROM integration_appointment
                                WHERE patient_id IS NOT NULL)
                   OR p.id IN (SELECT patient_id FROM integration_charge))"""
    )
