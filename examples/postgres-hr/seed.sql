-- Seed data for schema.sql: three departments, two facilities, 26 people
-- (middle names, accents, a missing e-mail, a leave, two terminations).
INSERT INTO hr.departments VALUES
    (10, 'Engineering', 'ENG001'),
    (20, 'Security', 'SEC01'),
    (30, 'Programs', NULL);

INSERT INTO hr.facilities VALUES
    (1, 'Huntsville HQ', 101, '1ABC2'),
    (2, 'Colorado Springs', 102, '3DEF4');

INSERT INTO hr.employees
    (employee_id, person_uuid, given_name, middle_name, family_name, work_email, email_aliases, title,
     department_id, facility_id, ssn, date_of_birth, birth_city, hired_on, status, terminated_at,
     is_contractor, clearance_level, salary)
VALUES
    ('E000101', 'a3f1c2d4-0001-4000-8000-000000000101', 'Margaret', 'Anne', 'Hamilton', 'margaret.hamilton@example.com', '{mhamilton@example.com}', 'Chief Engineer', 10, 1, '123-45-6701', '1966-08-17', 'Paoli, IN', '2015-03-02', 'active', NULL, false, 3, 185000.00),
    ('E000102', 'a3f1c2d4-0001-4000-8000-000000000102', 'José', NULL, 'Núñez', 'jose.nunez@example.com', NULL, 'Systems Engineer', 10, 1, '123456702', '1984-02-29', 'San Juan, PR', '2018-07-16', 'active', NULL, false, 2, 121500.50),
    ('E000103', 'a3f1c2d4-0001-4000-8000-000000000103', 'Zoë', 'Mae', 'Ødegård', 'zoe.odegard@example.com', NULL, 'Facility Security Officer', 20, 1, '123-45-6703', '1979-11-05', 'Bergen', '2012-01-09', 'active', NULL, false, 3, 142000.00),
    ('E000104', 'a3f1c2d4-0001-4000-8000-000000000104', 'Li', NULL, 'Wei', 'li.wei@example.com', NULL, 'Program Manager', 30, 2, '123-45-6704', '1990-04-12', 'Chengdu', '2020-10-01', 'active', NULL, false, 2, 133000.00),
    ('E000105', 'a3f1c2d4-0001-4000-8000-000000000105', 'Aaliyah', 'Grace', 'Washington', 'aaliyah.washington@example.com', NULL, 'Security Analyst', 20, 2, '123-45-6705', '1995-06-30', 'Atlanta, GA', '2021-05-17', 'active', NULL, false, 2, 98000.00),
    ('E000106', 'a3f1c2d4-0001-4000-8000-000000000106', 'Søren', NULL, 'Kierkegaard', 'soren.kierkegaard@example.com', NULL, 'Technical Writer', 30, 1, NULL, '1988-05-05', NULL, '2019-02-11', 'active', NULL, true, NULL, NULL),
    ('E000107', 'a3f1c2d4-0001-4000-8000-000000000107', 'Françoise', 'Hélène', 'Lefèvre', 'francoise.lefevre@example.com', NULL, 'Test Engineer', 10, 2, '123-45-6707', '1982-09-23', 'Lyon', '2016-08-29', 'active', NULL, false, 2, 112250.00),
    ('E000108', 'a3f1c2d4-0001-4000-8000-000000000108', 'Kwame', NULL, 'Mensah', 'kwame.mensah@example.com', NULL, 'Network Engineer', 10, 1, '123-45-6708', '1987-12-01', 'Accra', '2017-04-03', 'active', NULL, false, 2, 118000.00),
    ('E000109', 'a3f1c2d4-0001-4000-8000-000000000109', 'Priya', 'Lakshmi', 'Raman', 'priya.raman@example.com', NULL, 'Data Scientist', 10, 2, '123-45-6709', '1993-03-14', 'Chennai', '2022-01-10', 'active', NULL, false, 1, 126000.00),
    ('E000110', 'a3f1c2d4-0001-4000-8000-000000000110', 'Ryan', 'James', 'O''Connor', 'ryan.oconnor@example.com', NULL, 'Field Technician', 30, 1, '123-45-6710', '1991-07-19', 'Boston, MA', '2014-06-23', 'on_leave', NULL, false, 1, 76000.00),
    ('E000111', 'a3f1c2d4-0001-4000-8000-000000000111', 'Ana', 'Lucía', 'García-Márquez', 'ana.garcia@example.com', NULL, 'Contracts Manager', 30, 2, '123-45-6711', '1975-10-10', 'Bogotá', '2010-09-13', 'active', NULL, false, 2, 139500.00),
    ('E000112', 'a3f1c2d4-0001-4000-8000-000000000112', 'Hiroshi', NULL, 'Tanaka', 'hiroshi.tanaka@example.com', NULL, 'Firmware Engineer', 10, 1, '123-45-6712', '1986-01-27', 'Osaka', '2019-11-04', 'active', NULL, false, 2, 129000.00),
    ('E000113', 'a3f1c2d4-0001-4000-8000-000000000113', 'Fatima', 'Zahra', 'El-Amin', 'fatima.elamin@example.com', NULL, 'Insider Threat Analyst', 20, 1, '123-45-6713', '1989-08-08', 'Rabat', '2018-03-19', 'active', NULL, false, 3, 117000.00),
    ('E000114', 'a3f1c2d4-0001-4000-8000-000000000114', 'Dmitri', NULL, 'Volkov', NULL, NULL, 'Machinist', 30, 2, '123-45-6714', '1970-02-02', 'Perm', '2008-05-05', 'active', NULL, false, NULL, 64000.00),
    ('E000115', 'a3f1c2d4-0001-4000-8000-000000000115', 'Grace', 'Brewster', 'Hopper', 'grace.hopper@example.com', NULL, 'Principal Engineer', 10, 1, '123-45-6715', '1956-12-09', 'New York, NY', '2001-01-02', 'active', NULL, false, 3, 210000.00),
    ('E000116', 'a3f1c2d4-0001-4000-8000-000000000116', 'Nguyễn', NULL, 'Thị Lan', 'lan.nguyen@example.com', NULL, 'Quality Engineer', 10, 2, '123-45-6716', '1994-09-02', 'Hà Nội', '2023-02-27', 'active', NULL, false, 1, 101000.00),
    ('E000117', 'a3f1c2d4-0001-4000-8000-000000000117', 'Björn', 'Erik', 'Andersson', 'bjorn.andersson@example.com', NULL, 'Logistics Lead', 30, 1, '123-45-6717', '1983-06-21', 'Uppsala', '2013-10-14', 'active', NULL, false, 1, 88000.00),
    ('E000118', 'a3f1c2d4-0001-4000-8000-000000000118', 'Chidi', NULL, 'Okonkwo', 'chidi.okonkwo@example.com', NULL, 'Ethics Officer', 20, 2, '123-45-6718', '1985-04-04', 'Enugu', '2016-12-05', 'active', NULL, false, 2, 115000.00),
    ('E000119', 'a3f1c2d4-0001-4000-8000-000000000119', 'Mary', 'Jackson', 'Johnson', 'mary.johnson@example.com', NULL, 'Mathematician', 10, 1, '123-45-6719', '1961-08-26', 'White Sulphur Springs, WV', '2005-07-11', 'active', NULL, false, 3, 150000.00),
    ('E000120', 'a3f1c2d4-0001-4000-8000-000000000120', 'Élodie', NULL, 'Moreau', 'elodie.moreau@example.com', NULL, 'Linguist', 30, 2, '123-45-6720', '1992-11-30', 'Québec', '2021-09-07', 'active', NULL, true, 2, NULL),
    ('E000121', 'a3f1c2d4-0001-4000-8000-000000000121', 'Tomás', 'Ignacio', 'Herrera', 'tomas.herrera@example.com', NULL, 'Security Specialist', 20, 1, '123-45-6721', '1990-01-15', 'Santiago', '2017-02-20', 'active', NULL, false, 2, 95000.00),
    ('E000122', 'a3f1c2d4-0001-4000-8000-000000000122', 'Ingrid', NULL, 'Bergström', 'ingrid.bergstrom@example.com', NULL, 'Program Analyst', 30, 2, '123-45-6722', '1987-03-03', 'Malmö', '2020-06-15', 'active', NULL, false, 1, 91000.00),
    ('E000123', 'a3f1c2d4-0001-4000-8000-000000000123', 'Samuel', 'Lee', 'Park', 'samuel.park@example.com', NULL, 'RF Engineer', 10, 1, '123-45-6723', '1989-05-25', 'Seoul', '2018-08-27', 'active', NULL, false, 2, 124000.00),
    ('E000124', 'a3f1c2d4-0001-4000-8000-000000000124', 'Olga', NULL, 'Kowalczyk', 'olga.kowalczyk@example.com', NULL, 'Records Clerk', 20, 2, '123-45-6724', '1978-07-07', 'Kraków', '2011-11-21', 'active', NULL, false, NULL, 58000.00),
    ('E000125', 'a3f1c2d4-0001-4000-8000-000000000125', 'Hank', 'R', 'Morgan', 'hank.morgan@example.com', NULL, 'Machinist', 30, 1, '123-45-6725', '1965-10-31', 'Hartford, CT', '1999-04-12', 'terminated', '2026-06-30 17:00:00-04', false, NULL, 61000.00),
    ('E000126', 'a3f1c2d4-0001-4000-8000-000000000126', 'Lena', NULL, 'Fischer', 'lena.fischer@example.com', NULL, 'Intern', 10, 2, NULL, '2004-02-14', 'Hamburg', '2026-06-01', 'terminated', '2026-08-29 12:00:00+00', false, NULL, NULL);
