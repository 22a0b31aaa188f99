# Attribute-based access: what a user may do with a document or an expense
# follows from the resource's attributes in the request (owner, department,
# classification, amount) and the user's claims (department, clearance).
package stepgate

levels := {"public": 0, "internal": 1, "confidential": 2, "secret": 3}

actions := {"document.read", "document.update", "document.delete", "expense.approve"}

action := input.action.name

res := object.get(input.resource, "properties", {})

claims := object.get(input.subject, "claims", {})

user := object.get(claims, "sub", "")

owner if {
	user != ""
	res.owner == user
}

same_department if {
	d := claims.department
	is_string(d)
	d != ""
	res.department == d
}

# clearance is the user's clearance level; anything but a number is 0.
clearance := c if {
	c := claims.clearance
	is_number(c)
} else := 0

# level is the resource's classification level; an unknown classification
# is treated as the highest.
level := levels[res.classification] if {
	levels[res.classification]
} else := 0 if {
	res.classification == "public"
} else := 3

mfa if "mfa" in claims.amr

id := input.resource.id

decision := _deny(sprintf("unknown action %q", [action])) if {
	not action in actions
} else := _deny(sprintf("%s is classified above clearance %v", [id, clearance])) if {
	level > clearance
} else := _read if {
	action == "document.read"
} else := _update if {
	action == "document.update"
} else := _delete if {
	action == "document.delete"
} else := _approve

_deny(reason) := {"decision": "deny", "reasons": [reason]}

_allow(reason) := {"decision": "allow", "reasons": [reason]}

_mfa_step_up(reason) := {"decision": "step_up", "reasons": [reason], "requirements": {"amr_any": ["mfa"]}}

_read := _allow(sprintf("%s: owner reads", [id])) if {
	owner
} else := _allow(sprintf("%s: same department reads", [id])) if {
	same_department
} else := _allow(sprintf("%s: public", [id])) if {
	level == 0
} else := _deny(sprintf("%s: neither owner nor department", [id]))

_update := _allow(sprintf("%s: owner updates", [id])) if {
	owner
} else := _allow(sprintf("%s: department editor updates", [id])) if {
	same_department
	clearance >= 2
} else := _deny(sprintf("%s: only the owner or a department editor updates", [id]))

_delete := _deny(sprintf("%s: only the owner deletes", [id])) if {
	not owner
} else := _mfa_step_up(sprintf("%s: deleting needs mfa", [id])) if {
	not mfa
} else := _allow(sprintf("%s: owner deletes with mfa", [id]))

_approve := _deny(sprintf("%s: nobody approves their own expense", [id])) if {
	owner
} else := _deny(sprintf("%s: approvers are in the expense's department", [id])) if {
	not same_department
} else := _deny(sprintf("%s: the amount must be a number", [id])) if {
	not is_number(res.amount)
} else := {
	"decision": "ciba",
	"reasons": [sprintf("%s: an amount of %v needs approval on the approver's device", [id, res.amount])],
	"requirements": {"amr_any": ["mfa"]},
} if {
	res.amount >= 100000
} else := _mfa_step_up(sprintf("%s: amounts from 10000 need mfa", [id])) if {
	res.amount >= 10000
	not mfa
} else := _allow(sprintf("%s: approved within the department", [id]))
