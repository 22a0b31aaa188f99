package stepgate

# AuthZEN interop "Todo" scenario (authorization-api-1_0-02 suite): the Todo
# app asks whether a user may read users and todos and create, update or
# delete a todo. The PEP sends only the subject's PID; the user's attributes
# (email, roles) come from the PIP data in data.todo.users, and what each
# role may do lives in data.todo.actions:
#
#   roles        any of these roles grants the action ("*": any known user)
#   owner_roles  these roles grant it only on a todo the user owns
#                (resource.properties.ownerID equals the user's email)

user := u if {
	input.subject.type == "user"
	u := data.todo.users[input.subject.id]
}

rule := r if {
	r := data.todo.actions[input.action.name]
	input.resource.type == r.resource_type
}

default decision := {"decision": "deny", "reasons": ["unknown user, action or resource type"]}

decision := {"decision": "allow", "reasons": [sprintf("%s may %s", [user.email, input.action.name])]} if {
	allowed
} else := {"decision": "deny", "reasons": [sprintf("%s may not %s %s", [user.email, input.action.name, object.get(input.resource, "id", "")])]} if {
	user
	rule
}

allowed if {
	user
	"*" in rule.roles
}

allowed if {
	some role in user.roles
	role in rule.roles
}

allowed if {
	some role in user.roles
	role in object.get(rule, "owner_roles", [])
	input.resource.properties.ownerID == user.email
}
