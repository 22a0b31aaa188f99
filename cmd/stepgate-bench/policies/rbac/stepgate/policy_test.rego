package stepgate_test

req(action, roles, amr) := {
	"action": {"name": action},
	"subject": {"type": "user", "id": "bob", "claims": {"sub": "bob", "roles": roles, "amr": amr}},
}

test_role_grants_action if {
	d := data.stepgate.decision with input as req("invoice.read", ["role-001"], ["pwd"])
		with data.stepgate.roles as {"role-001": {"actions": {"invoice.read": true}}}
	d.decision == "allow"
	d.reasons == ["bob may invoice.read as role-001"]
}

test_first_granting_role_in_name_order if {
	d := data.stepgate.decision with input as req("invoice.read", ["role-009", "role-002"], ["pwd"])
		with data.stepgate.roles as {"role-002": {"actions": {"invoice.read": true}}, "role-009": {"actions": {"invoice.read": true}}}
	d.reasons == ["bob may invoice.read as role-002"]
}

test_no_granting_role_denies if {
	d := data.stepgate.decision with input as req("invoice.delete", ["role-001"], ["pwd", "mfa"])
		with data.stepgate.roles as {"role-001": {"actions": {"invoice.read": true}}}
	d.decision == "deny"
}

test_unknown_role_denies if {
	data.stepgate.decision.decision == "deny" with input as req("invoice.read", ["no-such-role"], ["pwd"])
}

test_roles_not_a_list_deny if {
	data.stepgate.decision.decision == "deny" with input as req("invoice.read", "role-001", ["pwd"])
		with data.stepgate.roles as {"role-001": {"actions": {"invoice.read": true}}}
}

test_sensitive_action_without_mfa_steps_up if {
	d := data.stepgate.decision with input as req("payroll.approve", ["role-001"], ["pwd"])
		with data.stepgate.roles as {"role-001": {"actions": {"payroll.approve": true}}}
		with data.stepgate.sensitive as {"payroll.approve": true}
	d.decision == "step_up"
	d.requirements == {"amr_any": ["mfa"]}
}

test_sensitive_action_with_mfa_allows if {
	d := data.stepgate.decision with input as req("payroll.approve", ["role-001"], ["pwd", "mfa"])
		with data.stepgate.roles as {"role-001": {"actions": {"payroll.approve": true}}}
		with data.stepgate.sensitive as {"payroll.approve": true}
	d.decision == "allow"
}

test_shipped_table_has_hundreds_of_roles if {
	count(data.stepgate.roles) >= 300
}
