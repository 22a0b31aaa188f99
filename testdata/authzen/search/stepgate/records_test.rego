package stepgate_test

import data.stepgate

req(sub, action, rec) := {
	"subject": {"type": "user", "id": sub},
	"action": {"name": action},
	"resource": {"type": "record", "id": rec},
}

allowed(sub, action, rec) if stepgate.decision.decision == "allow" with input as req(sub, action, rec)

test_manager_views_everything if {
	allowed("alice", "view", "104")
	not allowed("alice", "delete", "104")
}

test_department_view_and_manager_edit if {
	allowed("bob", "view", "101")
	not allowed("bob", "edit", "101")
	allowed("alice", "edit", "110")
	not allowed("alice", "delete", "110")
}

test_owner_does_everything if {
	allowed("erin", "view", "105")
	allowed("erin", "edit", "105")
	allowed("erin", "delete", "105")
}

test_unknown_user_record_and_type_deny if {
	not allowed("zoe", "view", "101")
	not allowed("alice", "view", "999")
	stepgate.decision.decision == "deny" with input as object.union(req("alice", "view", "101"), {"resource": {"type": "file", "id": "101"}})
}

test_candidates_come_from_data if {
	count(data.stepgate.search.subjects) == 6
	count(data.stepgate.search.resources) == 20
	{"type": "record", "id": "101"} in data.stepgate.search.resources
}
