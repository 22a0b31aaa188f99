package stepgate.search

# Candidates for AuthZEN search: every entity stepgate should try. stepgate
# keeps the ones data.stepgate.decision allows, so the rules here only say
# who and what exists, never who may do what.

subjects contains {"type": "user", "id": u.id} if some u in data.records.users

resources contains {"type": "record", "id": sprintf("%v", [d.id])} if some d in data.records.documents

actions contains {"name": name} if some name in ["view", "edit", "delete"]
