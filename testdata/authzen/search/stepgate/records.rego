package stepgate

# AuthZEN interop search scenario: users with a role and a department
# (data.records.users) and documents with a department and an owner
# (data.records.documents), both the upstream data files unchanged.
#
#   view    managers see every record; others see their department's records
#           and their own
#   edit    the owner, or a manager of the record's department
#   delete  the owner only
#
# Search (subject, resource and action) enumerates candidates in
# stepgate/search/candidates.rego and keeps those this decision allows.

users[u.id] := u if some u in data.records.users

# Record ids are numbers in the upstream data and strings in AuthZEN.
documents[sprintf("%v", [d.id])] := d if some d in data.records.documents

user := users[input.subject.id] if input.subject.type == "user"

document := documents[input.resource.id] if input.resource.type == "record"

default decision := {"decision": "deny", "reasons": ["unknown user or record"]}

decision := {"decision": "allow", "reasons": [sprintf("%s may %s record %s", [user.id, input.action.name, input.resource.id])]} if {
	allowed
} else := {"decision": "deny", "reasons": [sprintf("%s may not %s record %s", [user.id, input.action.name, input.resource.id])]} if {
	user
	document
}

owner if document.owner == user.id

manager if user.role == "manager"

same_department if document.department == user.department

allowed if {
	input.action.name in {"view", "edit", "delete"}
	owner
}

allowed if {
	input.action.name == "view"
	document
	manager
}

allowed if {
	input.action.name == "view"
	same_department
}

allowed if {
	input.action.name == "edit"
	manager
	same_department
}
