# Role-based access: the token's "roles" claim names the user's roles, and
# data.stepgate.roles says which actions each role grants. Actions listed
# in data.stepgate.sensitive also need an mfa amr.
package stepgate

action := input.action.name

# user_roles are the user's roles; anything but a list of strings grants nothing.
user_roles := {r | some r in input.subject.claims.roles; is_string(r)} if {
	is_array(input.subject.claims.roles)
} else := set()

# granting lists the user's roles that grant the action, in name order, so
# that the reason names the same role every time.
granting := sort([r | some r in user_roles; data.stepgate.roles[r].actions[action] == true])

mfa if "mfa" in input.subject.claims.amr

decision := {
	"decision": "deny",
	"reasons": [sprintf("%s has no role that grants %s", [input.subject.id, action])],
} if {
	count(granting) == 0
} else := {
	"decision": "step_up",
	"reasons": [sprintf("%s is sensitive: role %s grants it with mfa only", [action, granting[0]])],
	"requirements": {"amr_any": ["mfa"]},
} if {
	data.stepgate.sensitive[action] == true
	not mfa
} else := {
	"decision": "allow",
	"reasons": [sprintf("%s may %s as %s", [input.subject.id, action, granting[0]])],
}
