package stepgate_test

import data.stepgate

req(sub, sub_props, action, action_props, rec, rec_props) := {
	"subject": {"type": "user", "id": sub, "properties": sub_props},
	"action": {"name": action, "properties": action_props},
	"resource": {"type": "record", "id": rec, "properties": rec_props},
}

decide(r) := d if {
	d := stepgate.decision.decision with input as r
}

test_fixture_rules if {
	decide(req("alice", {}, "read", {}, "record-1", {})) == "allow"
	decide(req("alice", {}, "write", {}, "record-1", {})) == "allow"
	decide(req("bob", {}, "read", {}, "record-1", {})) == "allow"
	decide(req("bob", {}, "write", {}, "record-1", {})) == "deny"
	decide(req("alice", {}, "write", {}, "record-2", {"status": "archived"})) == "deny"
	decide(req("bob", {"role": "admin"}, "write", {}, "record-2", {"status": "archived"})) == "allow"
	decide(req("alice", {}, "delete", {"soft": true}, "record-1", {})) == "allow"
	decide(req("alice", {}, "delete", {"soft": false}, "record-1", {})) == "deny"
}

test_stored_status_applies_without_properties if {
	decide(req("alice", {}, "write", {}, "record-2", {})) == "deny"
}

test_unknown_user_denied if {
	decide(req("mallory", {"role": "admin"}, "write", {}, "record-1", {})) == "deny"
}
