-- One work log per residency and day (a cadre has one residency running on a day) (SQLite).
-- Keep in step with ../../postgres/.
--
-- Earlier versions accepted several logs of one day: they are joined, in the order they were
-- written and separated by a blank line, into the first of them, so nothing is lost.
UPDATE work_logs
SET content = (
    SELECT group_concat(content, char(10) || char(10))
    FROM (
        SELECT w.content
        FROM work_logs AS w
        WHERE w.residency_id = work_logs.residency_id AND w.date = work_logs.date
        ORDER BY w.id
    )
)
WHERE id IN (
    SELECT min(id) FROM work_logs GROUP BY residency_id, date HAVING count(*) > 1
);
DELETE FROM work_logs
WHERE id NOT IN (SELECT min(id) FROM work_logs GROUP BY residency_id, date);

CREATE UNIQUE INDEX work_logs_day_idx ON work_logs (residency_id, date);
