package stepgate_test

import data.stepgate

req(sub, action, rec) := {
	"subject": {"type": "user", "id": sub},
	"action": {"name": action},
	"resource": {"type": "record", "id": rec},
}

test_owner_may_delete if {
	stepgate.decision.decision == "allow" with input as req("carol", "delete", "103")
}

test_others_and_unknown_actions_deny if {
	stepgate.decision.decision == "deny" with input as req("alice", "delete", "103")
	stepgate.decision.decision == "deny" with input as req("carol", "publish", "103")
	stepgate.decision.decision == "deny" with input as req("carol", "delete", "999")
}

test_subject_candidates_are_distinct_owners if {
	count(data.stepgate.search.subjects) == 6
}
