-- Encounters and immunizations given at each facility in a period, with the facility's ownership and unit.
-- replaces: facility_activity
-- params: $start, $end, $province, $facility
SELECT f.facility, f.name, f.ownership, f.level, f.unit, f.province,
       coalesce(sum(a.encounters), 0) AS encounters, coalesce(sum(a.doses), 0) AS doses
FROM facilities f
LEFT JOIN facility_days a ON a.facility = f.facility AND a.day >= $start AND a.day < $end
WHERE ($facility IS NULL OR f.facility = $facility)
  AND ($province IS NULL OR f.province = $province OR f.unit = $province)
GROUP BY f.facility, f.name, f.ownership, f.level, f.unit, f.province
