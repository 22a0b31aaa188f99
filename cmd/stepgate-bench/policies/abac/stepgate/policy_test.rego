package stepgate_test

req(action, props, claims) := {
	"action": {"name": action},
	"subject": {"type": "user", "id": object.get(claims, "sub", ""), "claims": claims},
	"resource": {"type": "document", "id": "doc-1", "properties": props},
}

alice := {"sub": "alice", "department": "sales", "clearance": 2, "amr": ["pwd"]}

alice_mfa := object.union(alice, {"amr": ["pwd", "mfa"]})

test_owner_reads if {
	d := data.stepgate.decision with input as req("document.read", {"owner": "alice", "classification": "internal"}, alice)
	d == {"decision": "allow", "reasons": ["doc-1: owner reads"]}
}

test_department_reads if {
	d := data.stepgate.decision with input as req("document.read", {"owner": "bob", "department": "sales", "classification": "internal"}, alice)
	d.decision == "allow"
}

test_public_reads if {
	d := data.stepgate.decision with input as req("document.read", {"owner": "bob", "department": "hr", "classification": "public"}, alice)
	d.decision == "allow"
}

test_other_department_denied if {
	d := data.stepgate.decision with input as req("document.read", {"owner": "bob", "department": "hr", "classification": "internal"}, alice)
	d.decision == "deny"
}

test_classification_above_clearance_denied if {
	d := data.stepgate.decision with input as req("document.read", {"owner": "alice", "classification": "secret"}, alice)
	d.reasons == ["doc-1 is classified above clearance 2"]
}

test_unknown_classification_is_secret if {
	d := data.stepgate.decision with input as req("document.read", {"owner": "alice", "classification": "whatever"}, alice)
	d.decision == "deny"
}

test_department_editor_updates if {
	d := data.stepgate.decision with input as req("document.update", {"owner": "bob", "department": "sales", "classification": "internal"}, alice)
	d.decision == "allow"
}

test_low_clearance_cannot_update_department_document if {
	low := object.union(alice, {"clearance": 1})
	d := data.stepgate.decision with input as req("document.update", {"owner": "bob", "department": "sales", "classification": "internal"}, low)
	d.decision == "deny"
}

test_owner_delete_needs_mfa if {
	d := data.stepgate.decision with input as req("document.delete", {"owner": "alice", "classification": "internal"}, alice)
	d.decision == "step_up"
	e := data.stepgate.decision with input as req("document.delete", {"owner": "alice", "classification": "internal"}, alice_mfa)
	e.decision == "allow"
}

test_no_self_approval if {
	d := data.stepgate.decision with input as req("expense.approve", {"owner": "alice", "department": "sales", "classification": "internal", "amount": 5}, alice)
	d.decision == "deny"
}

expense(n) := {"owner": "bob", "department": "sales", "classification": "internal", "amount": n}

test_approval_thresholds if {
	small := data.stepgate.decision with input as req("expense.approve", expense(500), alice)
	small.decision == "allow"
	mid := data.stepgate.decision with input as req("expense.approve", expense(20000), alice)
	mid.decision == "step_up"
	mid_mfa := data.stepgate.decision with input as req("expense.approve", expense(20000), alice_mfa)
	mid_mfa.decision == "allow"
	large := data.stepgate.decision with input as req("expense.approve", expense(150000), alice_mfa)
	large.decision == "ciba"
}

test_amount_must_be_a_number if {
	d := data.stepgate.decision with input as req("expense.approve", {"owner": "bob", "department": "sales", "classification": "internal", "amount": "lots"}, alice)
	d.decision == "deny"
}

test_unknown_action_denied if {
	d := data.stepgate.decision with input as req("document.print", {"owner": "alice", "classification": "public"}, alice)
	d.decision == "deny"
}
