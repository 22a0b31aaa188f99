package stepgate

# AuthZEN interop "API gateway" scenario: a gateway in front of the Todo API
# asks whether an identity may call a route (resource.id is the route
# template, action.name the HTTP method). Roles come from the same PIP data as
# the Todo scenario (data.gateway.users); data.gateway.routes maps route and
# method to the roles that may call it ("*": any known identity). Ownership
# is left to the Todo service behind the gateway.

user := u if {
	input.subject.type == "identity"
	u := data.gateway.users[input.subject.id]
}

roles := r if {
	input.resource.type == "route"
	r := data.gateway.routes[input.resource.id][input.action.name]
}

default decision := {"decision": "deny", "reasons": ["unknown identity or route"]}

decision := {"decision": "allow", "reasons": [sprintf("%s may call %s %s", [user.email, input.action.name, input.resource.id])]} if {
	allowed
} else := {"decision": "deny", "reasons": [sprintf("%s may not call %s %s", [user.email, input.action.name, input.resource.id])]} if {
	user
	roles
}

allowed if {
	user
	"*" in roles
}

allowed if {
	some role in user.roles
	role in roles
}
