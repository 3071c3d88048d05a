-- v4: drop what nothing reads. Device calibrations live per machine (engine.calibrations, written by
-- `kernelwright calibrate`), so the `calibrations` table of v2 was never written. And no query looks a
-- measurement up by its key (source hash + device + library versions): the columns stay, their index
-- goes. Results are read by site (measurements_by_site), newest first.

DROP INDEX IF EXISTS calibrations_by_device;
DROP TABLE IF EXISTS calibrations;
DROP INDEX IF EXISTS measurements_by_key;
