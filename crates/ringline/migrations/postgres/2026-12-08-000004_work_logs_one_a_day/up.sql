-- One work log per residency and day (a cadre has one residency running on a day)
-- (PostgreSQL). Keep in step with ../../sqlite/.
--
-- Earlier versions accepted several logs of one day: they are joined, in the order they were
-- written and separated by a blank line, into the first of them, so nothing is lost.
UPDATE work_logs
SET content = joined.content
FROM (
    SELECT min(id) AS id, string_agg(content, E'\n\n' ORDER BY id) AS content
    FROM work_logs
    GROUP BY residency_id, date
    HAVING count(*) > 1
) AS joined
WHERE work_logs.id = joined.id;
DELETE FROM work_logs
WHERE id NOT IN (SELECT min(id) FROM work_logs GROUP BY residency_id, date);

CREATE UNIQUE INDEX work_logs_day_idx ON work_logs (residency_id, date);
