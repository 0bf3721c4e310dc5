-- A small HR database of the kind compliance-sync reads: employees, their
-- departments and the facilities they work at. Load with
--   psql -v ON_ERROR_STOP=1 -f schema.sql -f seed.sql
CREATE SCHEMA IF NOT EXISTS hr;

CREATE TYPE hr.employment_status AS ENUM ('active', 'on_leave', 'terminated');

CREATE TABLE hr.departments (
    department_id  integer PRIMARY KEY,
    name           text NOT NULL,
    cost_center    char(6)
);

CREATE TABLE hr.facilities (
    facility_id             integer PRIMARY KEY,
    name                    text NOT NULL,
    compliance_facility_id  bigint,          -- the facility's id in the Compliance account
    cage_code               char(5)
);

CREATE TABLE hr.employees (
    employee_id     text PRIMARY KEY,        -- 'E000123'
    person_uuid     uuid NOT NULL UNIQUE,
    given_name      text NOT NULL,
    middle_name     text,
    family_name     text NOT NULL,
    work_email      varchar(254),
    email_aliases   text[],
    title           text,
    department_id   integer REFERENCES hr.departments,
    facility_id     integer REFERENCES hr.facilities,
    ssn             char(11),
    date_of_birth   date,
    birth_city      text,
    hired_on        date,
    status          hr.employment_status NOT NULL DEFAULT 'active',
    terminated_at   timestamptz,
    is_contractor   boolean NOT NULL DEFAULT false,
    clearance_level smallint,
    salary          numeric(12, 2),
    updated_at      timestamp NOT NULL DEFAULT now()
);

-- The account compliance-sync reads as: SELECT only.
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'compliance_reader') THEN
        CREATE ROLE compliance_reader LOGIN;
    END IF;
END $$;
GRANT USAGE ON SCHEMA hr TO compliance_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA hr TO compliance_reader;
