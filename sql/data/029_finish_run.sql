-- 029_finish_run.sql
--
-- What:     marks the run 010 opened complete, once both copies are (refused otherwise, with the
--           step to run). From then on `status` says 'copied', and a re-run that finds nothing
--           changed (010) is a no-op that reads no image. Prints the run id (empty: 010 opened none).
-- Requires: 010 .. 022 run.
-- Runs:     in a transaction of its own.
SELECT sark_migration.finish_open_run() AS finished_run;
