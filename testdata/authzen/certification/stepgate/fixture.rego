package stepgate

# The fixture of the OpenID AuthZEN 1.0 certification scenario: users alice
# and bob, records record-1 (active) and record-2 (archived), actions read,
# write and delete. data.certification.users grants each user actions;
# attributes a PEP sends in the request win over the stored ones.
#
#   read    any known user, any known record
#   write   a user granted write, on a record that is not archived; or a
#           subject the PEP says is an admin (subject.properties.role)
#   delete  a user granted delete, only as a soft delete
#           (action.properties.soft == true), on a record that is not archived

user := data.certification.users[input.subject.id] if input.subject.type == "user"

stored := data.certification.records[input.resource.id] if input.resource.type == "record"

status := s if {
	stored
	s := input.resource.properties.status
} else := stored.status

default decision := {"decision": "deny", "reasons": ["unknown user or record"]}

decision := {"decision": "allow", "reasons": [sprintf("%s may %s %s", [input.subject.id, input.action.name, input.resource.id])]} if {
	allowed
} else := {"decision": "deny", "reasons": [sprintf("%s may not %s %s (status %s)", [input.subject.id, input.action.name, input.resource.id, status])]} if {
	user
	stored
}

granted(action) if action in user.grants

allowed if {
	input.action.name == "read"
	user
	stored
}

allowed if {
	input.action.name == "write"
	granted("write")
	status != "archived"
}

allowed if {
	input.action.name == "write"
	user
	stored
	input.subject.properties.role == "admin"
}

allowed if {
	input.action.name == "delete"
	granted("delete")
	input.action.properties.soft == true
	status != "archived"
}
