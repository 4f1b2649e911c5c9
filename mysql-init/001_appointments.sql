-- Both country schemas and their tables: what a real server (RDS) gets too. No users here: the
-- local kit's are in local/010_local_users.sql, and on AWS `make db-users` creates them with
-- generated passwords. Safe to run again. Valid on MySQL 8.4 and MariaDB 10.11.

CREATE DATABASE IF NOT EXISTS mysql_pe CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS mysql_cl CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- A schedule slot (schedule_id within a country) is held by one appointment: the unique key
-- decides, not a read-then-write.
CREATE TABLE IF NOT EXISTS mysql_pe.appointments (
    appointment_id CHAR(26)        NOT NULL,
    insured_id     VARCHAR(64)     NOT NULL,
    schedule_id    BIGINT UNSIGNED NOT NULL,
    country_iso    CHAR(2)         NOT NULL,
    created_at     DATETIME(3)     NOT NULL,
    stored_at      DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (appointment_id),
    UNIQUE KEY appointments_slot (schedule_id),
    KEY appointments_by_insured (insured_id, created_at)
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS mysql_cl.appointments (
    appointment_id CHAR(26)        NOT NULL,
    insured_id     VARCHAR(64)     NOT NULL,
    schedule_id    BIGINT UNSIGNED NOT NULL,
    country_iso    CHAR(2)         NOT NULL,
    created_at     DATETIME(3)     NOT NULL,
    stored_at      DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (appointment_id),
    UNIQUE KEY appointments_slot (schedule_id),
    KEY appointments_by_insured (insured_id, created_at)
) ENGINE = InnoDB;

-- Appointments refused because their slot was taken: one row each, so a repeated delivery is
-- recognised and announced once.
CREATE TABLE IF NOT EXISTS mysql_pe.appointment_rejections (
    appointment_id CHAR(26)        NOT NULL,
    insured_id     VARCHAR(64)     NOT NULL,
    schedule_id    BIGINT UNSIGNED NOT NULL,
    created_at     DATETIME(3)     NOT NULL,
    rejected_at    DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (appointment_id)
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS mysql_cl.appointment_rejections (
    appointment_id CHAR(26)        NOT NULL,
    insured_id     VARCHAR(64)     NOT NULL,
    schedule_id    BIGINT UNSIGNED NOT NULL,
    created_at     DATETIME(3)     NOT NULL,
    rejected_at    DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (appointment_id)
) ENGINE = InnoDB;
