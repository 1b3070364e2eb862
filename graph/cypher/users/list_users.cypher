// Every account with its role, facility, province and creation time (never the password hash).
// params: none
MATCH (u:User)
RETURN u.username AS username, u.role AS role, u.facility AS facility, u.province AS province,
       u.person_id IS NOT NULL AS linked_person, u.active AS active, toString(u.created_at) AS created_at
ORDER BY username
