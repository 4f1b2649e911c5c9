-- The appointments table as the first version of the kit made it: no slot key yet, insured ids
-- of up to 32 characters. Runs in the country's schema (mysql_pe, mysql_cl), as the admin user.
-- IF NOT EXISTS: a schema made before the migrations (by the former mysql-init/001_appointments.sql)
-- keeps its table as it is.
CREATE TABLE IF NOT EXISTS appointments (
    appointment_id CHAR(26)        NOT NULL,
    insured_id     VARCHAR(32)     NOT NULL,
    schedule_id    BIGINT UNSIGNED NOT NULL,
    country_iso    CHAR(2)         NOT NULL,
    created_at     DATETIME(3)     NOT NULL,
    stored_at      DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (appointment_id),
    KEY appointments_by_insured (insured_id, created_at)
) ENGINE = InnoDB;
