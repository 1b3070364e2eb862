-- Moves between communes seen through the addresses of a person's records over time: each change of
-- commune between consecutive records (by recording time) whose later record falls in the period.
-- replaces: moves, moves_in_province
-- params: $start, $end, $province
WITH ordered AS (
  SELECT a.commune, a.province, a.recorded_at,
         lag(a.commune) OVER w AS before_commune, lag(a.province) OVER w AS before_province
  FROM addresses a JOIN persons p ON p.person_id = a.person_id
  WHERE $province IS NULL OR p.province = $province
  WINDOW w AS (PARTITION BY a.person_id ORDER BY a.recorded_at, a.commune)
)
SELECT before_province AS from_province, before_commune AS from_commune, province AS to_province,
       commune AS to_commune, count(*) AS moves
FROM ordered
WHERE before_commune IS NOT NULL AND before_commune <> commune AND recorded_at >= $start AND recorded_at < $end
GROUP BY before_province, before_commune, province, commune
