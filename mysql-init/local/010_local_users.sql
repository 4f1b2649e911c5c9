-- The local kit's country users, for the local MySQL only: their passwords are in this
-- repository (bootstrap/config.py's LOCAL_COUNTRY_DATABASES), so never apply this file to a real
-- server; `make deploy` refuses an SSM password that is one of them. Runs after the schema files.
-- Safe to run again. Valid on MySQL 8.4 and MariaDB 10.11.

-- A country processor may only add and read rows of its own country.
CREATE USER IF NOT EXISTS 'rimac_pe'@'%' IDENTIFIED BY 'rimac_pe_local';
CREATE USER IF NOT EXISTS 'rimac_cl'@'%' IDENTIFIED BY 'rimac_cl_local';
GRANT SELECT, INSERT ON mysql_pe.* TO 'rimac_pe'@'%';
GRANT SELECT, INSERT ON mysql_cl.* TO 'rimac_cl'@'%';
