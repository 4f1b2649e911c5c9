-- A schedule slot (schedule_id within a country) is held by one appointment: the unique key
-- decides, not a read-then-write, and the MySQL adapter reads its name to report SlotTaken.
-- Added only where it is missing (MariaDB has ADD UNIQUE KEY IF NOT EXISTS, MySQL 8.4 does not).
-- Fails, naming a duplicate slot, on a table where two appointments already hold one: settle
-- those rows, then migrate again.
SET @add_slot_key = IF(
    (SELECT COUNT(*) FROM information_schema.statistics
      WHERE table_schema = DATABASE() AND table_name = 'appointments'
        AND index_name = 'appointments_slot') = 0,
    'ALTER TABLE appointments ADD UNIQUE KEY appointments_slot (schedule_id)',
    'DO 0'
);
PREPARE add_slot_key FROM @add_slot_key;
EXECUTE add_slot_key;
DEALLOCATE PREPARE add_slot_key;
