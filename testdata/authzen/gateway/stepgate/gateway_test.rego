package stepgate_test

import data.stepgate

summer := "CiRmZDI2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"

beth := "CiRmZDM2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"

call(sub, method, route) := {
	"subject": {"type": "identity", "id": sub},
	"action": {"name": method},
	"resource": {"type": "route", "id": route},
}

test_editor_may_change_todos if {
	stepgate.decision.decision == "allow" with input as call(summer, "PUT", "/todos/{todoId}")
}

test_viewer_may_only_read if {
	stepgate.decision.decision == "allow" with input as call(beth, "GET", "/todos")
	stepgate.decision.decision == "deny" with input as call(beth, "POST", "/todos")
}

test_unknown_route_method_and_subject_type_deny if {
	stepgate.decision.decision == "deny" with input as call(summer, "PATCH", "/todos/{todoId}")
	stepgate.decision.decision == "deny" with input as call(summer, "GET", "/admin")
	stepgate.decision.decision == "deny" with input as object.union(call(summer, "GET", "/todos"), {"subject": {"type": "user", "id": summer}})
}
