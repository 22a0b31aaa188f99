package stepgate_test

now := 1763770000

req(action, amr, age) := {
	"action": {"name": action},
	"subject": {"type": "user", "id": "alice", "claims": {"sub": "alice", "amr": amr, "auth_time": now - age}},
	"now": now,
}

test_billing_with_fresh_mfa_allows if {
	data.stepgate.decision.decision == "allow" with input as req("billing.view", ["pwd", "mfa"], 120)
}

test_billing_at_15_minutes_allows if {
	data.stepgate.decision.decision == "allow" with input as req("billing.pay", ["mfa"], 900)
}

test_billing_after_15_minutes_steps_up if {
	d := data.stepgate.decision with input as req("billing.view", ["pwd", "mfa"], 901)
	d.decision == "step_up"
	d.requirements == {"amr_any": ["mfa"], "max_age": 900}
}

test_billing_without_mfa_steps_up if {
	data.stepgate.decision.decision == "step_up" with input as req("billing.pay", ["pwd"], 5)
}

test_everyday_action_allows if {
	data.stepgate.decision.decision == "allow" with input as req("orders.list", ["pwd"], 5000)
}

test_unknown_action_denies if {
	data.stepgate.decision.decision == "deny" with input as req("admin.delete", ["pwd", "mfa"], 5)
}

test_no_claims_denies_billing_with_step_up if {
	d := data.stepgate.decision with input as {"action": {"name": "billing.view"}, "now": now}
	d.decision == "step_up"
}
