"""The checker on hand-made histories: each bad one must be flagged with
its kind, and the good ones (including unknown outcomes that went either
way) must pass. Without these, a checker that finds nothing would look
the same as a server that loses nothing."""

from __future__ import annotations

from lrhistory import checker

N = "projects/p/locations/l/operations/a"
PARENT = "projects/p/locations/l"


class H:
    """Builds a history: each call takes [start, end] and adds one entry."""

    def __init__(self):
        self.entries: list[dict] = []

    def add(self, op, start, end, outcome="ok", code=None, name=N, req=None, ans=None, **extra):
        self.entries.append({"id": len(self.entries), "proc": extra.pop("proc", "t"), "op": op, "start": start,
                             "end": end, "outcome": outcome, "code": code, "name": name, "req": req or {},
                             "ans": ans, **extra})
        return self

    def create(self, start, end, grace="0s", request_id="r1", name=N, outcome="ok"):
        ans = {"name": name} if outcome == "ok" else None
        return self.add("create", start, end, outcome, name=name if outcome == "ok" else None,
                        req={"parent": PARENT, "requestId": request_id, "cancelGrace": grace}, ans=ans)

    def get(self, start, end, result=None, running=False, gone=False, proc="t", name=N):
        if gone:
            return self.add("get", start, end, "failed", "NOT_FOUND", name=name, proc=proc,
                            ans={"error": {"code": 404, "status": "NOT_FOUND"}})
        op = {"name": name}
        if not running:
            op.update(done=True, **result)
        return self.add("get", start, end, name=name, ans=op, proc=proc)

    def complete(self, start, end, result, outcome="ok", code=None):
        return self.add("complete", start, end, outcome, code, req=result)

    def delete(self, start, end, outcome="ok"):
        return self.add("delete", start, end, outcome, None if outcome != "failed" else "CONNECT:Refused")

    def cancel(self, start, end, outcome="ok"):
        return self.add("cancel", start, end, outcome)

    def check(self, **kw) -> checker.Report:
        return checker.check(self.entries, **kw)


R1 = {"response": {"@type": "type.googleapis.com/google.protobuf.StringValue", "value": "one"}}
R2 = {"response": {"@type": "type.googleapis.com/google.protobuf.StringValue", "value": "two"}}
CANCELLED = {"error": {"code": 1, "message": "operation cancelled by request"}}


def kinds(report: checker.Report) -> set[str]:
    return {v.kind for v in report.violations}


def test_a_clean_history_passes():
    h = H().create(0, 1).get(2, 3, running=True).complete(4, 5, R1).get(6, 7, R1).delete(8, 9).get(10, 11, gone=True)
    report = h.check()
    assert report.violations == [], checker.summary(report)
    assert report.lost == 0


def test_lost_acknowledged_create_is_flagged():
    h = H().create(0, 1).get(2, 3, gone=True, proc="final")
    report = h.check()
    assert kinds(report) == {"lost create"}
    assert report.lost == 1


def test_a_failed_delete_does_not_excuse_a_missing_operation():
    h = H().create(0, 1).delete(2, 3, outcome="failed").get(4, 5, gone=True)
    assert kinds(h.check()) == {"lost create"}


def test_an_unknown_delete_excuses_a_missing_operation():
    h = H().create(0, 1).delete(2, 3, outcome="unknown").get(4, 5, gone=True)
    assert h.check().violations == []


def test_an_unknown_delete_that_did_not_happen_must_agree_later():
    # The unknown Delete went either way; once a read shows it gone, it
    # cannot come back.
    h = H().create(0, 1).delete(2, 3, outcome="unknown").get(4, 5, gone=True).get(6, 7, running=True)
    assert kinds(h.check()) == {"resurrection"}


def test_lost_acknowledged_complete_is_flagged():
    h = H().create(0, 1).complete(2, 3, R1).get(4, 5, running=True)
    report = h.check()
    assert kinds(report) == {"lost complete"}
    assert report.lost == 1


def test_acknowledged_complete_with_another_stored_result_is_flagged():
    h = H().create(0, 1).complete(2, 3, R1).get(4, 5, R2)
    assert "double terminal" in kinds(h.check())


def test_double_terminal_is_flagged():
    h = H().create(0, 1).get(2, 3, R1).get(4, 5, R2)
    assert kinds(h.check()) == {"double terminal"}


def test_double_terminal_is_flagged_whatever_the_order():
    # Overlapping reads: no real-time order, still one operation has one result.
    h = H().create(0, 1).get(2, 5, R2).get(3, 4, R1)
    assert kinds(h.check()) == {"double terminal"}


def test_done_then_running_is_flagged():
    h = H().create(0, 1).get(2, 3, R1).get(4, 5, running=True)
    assert kinds(h.check()) == {"done -> running"}


def test_overlapping_reads_may_see_either_state():
    h = H().create(0, 1).complete(2, 6, R1, outcome="unknown").get(3, 5, R1).get(4, 7, running=True)
    assert h.check().violations == []


def test_an_unknown_complete_that_took_effect_must_stay():
    h = H().create(0, 1).complete(2, 3, R1, outcome="unknown").get(4, 5, R1).get(6, 7, running=True)
    assert kinds(h.check()) == {"done -> running"}


def test_resurrection_after_acknowledged_delete_is_flagged():
    h = H().create(0, 1).delete(2, 3).get(4, 5, running=True)
    report = h.check()
    assert kinds(report) == {"lost delete"}
    assert report.lost == 1


def test_resurrection_after_a_read_found_it_gone_is_flagged():
    h = H().create(0, 1).delete(2, 3, outcome="unknown").get(4, 5, gone=True).get(6, 7, R1)
    assert kinds(h.check()) == {"resurrection"}


def test_zero_grace_cancel_must_end_cancelled():
    h = H().create(0, 1, grace="0s").cancel(2, 3).get(4, 5, running=True)
    assert kinds(h.check()) == {"lost cancel"}
    h = H().create(0, 1, grace="0s").cancel(2, 3).get(4, 5, R1)
    assert kinds(h.check()) == {"cancel lost to a result"}
    h = H().create(0, 1, grace="0s").cancel(2, 3).get(4, 5, CANCELLED)
    assert h.check().violations == []


def test_a_complete_that_came_first_may_win_over_a_cancel():
    h = H().create(0, 1, grace="0s").complete(2, 3, R1, outcome="unknown").cancel(4, 5).get(6, 7, R1)
    assert h.check().violations == []


def test_a_cancel_with_grace_must_end_once_the_grace_is_over():
    h = H().create(0, 1, grace="1s").cancel(2, 3).get(4, 5, running=True).get(20, 21, running=True, proc="final")
    assert kinds(h.check()) == {"cancel deadline lost"}
    h = H().create(0, 1, grace="1s").cancel(2, 3).get(4, 5, running=True).get(20, 21, CANCELLED, proc="final")
    assert h.check().violations == []


def test_request_id_answering_two_operations_is_flagged():
    other = "projects/p/locations/l/operations/b"
    h = H().create(0, 1, request_id="r").create(2, 3, request_id="r", name=other)
    assert kinds(h.check()) == {"request_id reused"}
    # After a Delete of the first, the request_id is free again.
    h = H().create(0, 1, request_id="r").delete(2, 3).create(4, 5, request_id="r", name=other)
    assert h.check().violations == []


def test_wait_over_its_bound_is_flagged():
    h = H().create(0, 1).add("wait", 2, 5.5, ans={"name": N}, req={"timeout_s": 1.0})
    assert kinds(h.check(wait_slack_s=2.0)) == {"wait over its bound"}
    h = H().create(0, 1).add("wait", 2, 4.5, ans={"name": N}, req={"timeout_s": 1.0})
    assert h.check(wait_slack_s=2.0).violations == []


def test_watch_events_are_reads():
    h = H().create(0, 1).add("watch", 2, 9, events=[
        {"t": 3, "op": {"name": N, "done": True, **R1}, "cancelRequested": False},
    ]).get(10, 11, running=True)
    assert kinds(h.check()) == {"done -> running"}


def test_a_list_that_shows_a_deleted_operation_is_flagged():
    h = H().create(0, 1).delete(2, 3).add("list", 4, 5, name=None, ans={"operations": [{"name": N}]})
    assert kinds(h.check()) == {"lost delete"}


def test_update_accepted_after_done_is_flagged():
    h = H().create(0, 1).get(2, 3, R1).add("update", 4, 5)
    assert kinds(h.check()) == {"done -> running"}
