package stepgate_test

import data.stepgate

rick := "CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"

morty := "CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"

jerry := "CiRmZDQ2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"

req(sub, action, owner) := {
	"subject": {"type": "user", "id": sub},
	"action": {"name": action},
	"resource": {"type": "todo", "id": "t1", "properties": {"ownerID": owner}},
}

test_editor_updates_own_todo_only if {
	stepgate.decision.decision == "allow" with input as req(morty, "can_update_todo", "morty@the-citadel.com")
	stepgate.decision.decision == "deny" with input as req(morty, "can_update_todo", "rick@the-citadel.com")
}

test_evil_genius_updates_any_todo if {
	stepgate.decision.decision == "allow" with input as req(rick, "can_update_todo", "jerry@the-smiths.com")
}

test_viewer_cannot_create if {
	stepgate.decision.decision == "deny" with input as req(jerry, "can_create_todo", "")
	stepgate.decision.decision == "allow" with input as req(jerry, "can_read_todos", "")
}

test_unknown_user_and_action_deny if {
	stepgate.decision.decision == "deny" with input as req("nobody", "can_read_todos", "")
	stepgate.decision.decision == "deny" with input as req(rick, "can_fly", "")
}

test_role_table_comes_from_data if {
	actions := {"can_read_todos": {"resource_type": "todo", "roles": ["admin"]}}
	stepgate.decision.decision == "deny" with input as req(jerry, "can_read_todos", "") with data.todo.actions as actions
}
