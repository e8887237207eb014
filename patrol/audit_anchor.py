"""Anchoring the audit chain outside the database: checkpoints of its head, and verification
against the last one (docs/AUDIT.md). The chain lives in the store, the key in patrol.audit_key,
the checkpoint file in patrol.checkpoints; this module is where the three meet."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from patrol.audit import REWRITTEN, WRONG_KEY, AuditVerification
from patrol.checkpoints import Checkpoint, CheckpointError, CheckpointKeyMismatch, CheckpointLog


class ChainBroken(RuntimeError):
    """A checkpoint was refused because the chain does not verify: a checkpoint would bless it."""

    def __init__(self, verification: AuditVerification):
        super().__init__(f"the audit trail does not verify (event {verification.first_bad_seq}: "
                         f"{verification.reason}); no checkpoint written")
        self.verification = verification


def verify(store, log: CheckpointLog | None) -> AuditVerification:
    """The chain checked with the store's key and against the last checkpoint in `log`. A damaged
    or forged checkpoint file is itself reported as a failure, naming the line."""
    last: Checkpoint | None = None
    if log is not None:
        try:
            last = log.last()
        except CheckpointKeyMismatch as exc:
            return AuditVerification(False, 0, None, str(exc), WRONG_KEY)
        except CheckpointError as exc:
            return AuditVerification(False, 0, None, f"the checkpoint file cannot be trusted: {exc}", REWRITTEN)
    if last is not None and last.store_id != store.store_id():
        return replace(store.verify_audit(), ok=False, problem=REWRITTEN, checkpoint_seq=last.seq,
                       checkpoint_at=last.at,
                       reason=f"the checkpoints in {log.path} belong to store {last.store_id}, "
                              f"this database is store {store.store_id()}: another or a replaced database")
    return store.verify_audit(checkpoint=last)


def take_checkpoint(store, log: CheckpointLog, now: datetime | None = None) -> Checkpoint:
    """Verify the chain against the last checkpoint, then sign and append its head."""
    verification = verify(store, log)
    if not verification.ok:
        raise ChainBroken(verification)
    seq, hash_, keyed_from = store.audit_head()
    return log.append(seq, hash_, keyed_from, store.store_id(), now)
