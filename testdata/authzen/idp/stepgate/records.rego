package stepgate

# AuthZEN interop IdP scenario: an identity provider asks which records a
# user may act on. The records (data.idp.records, the upstream file
# unchanged) name only an owner, and the owner may view, edit and delete
# them; nobody else may do anything.

records[r.id] := r if some r in data.idp.records

record := records[input.resource.id] if input.resource.type == "record"

default decision := {"decision": "deny", "reasons": ["unknown record"]}

decision := {"decision": "allow", "reasons": [sprintf("%s owns record %s", [input.subject.id, input.resource.id])]} if {
	input.subject.type == "user"
	input.action.name in {"view", "edit", "delete"}
	record.owner == input.subject.id
} else := {"decision": "deny", "reasons": [sprintf("%s may not %s record %s", [input.subject.id, input.action.name, input.resource.id])]} if {
	record
}
