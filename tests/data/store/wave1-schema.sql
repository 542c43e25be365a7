-- The schema rostersync created before it had migrations (schema version 1, unstamped), as
-- `sqlite3 rostersync.db .schema` prints it for a database made by commit f65a5dc (rostersync 0.1.0, wave 1).
CREATE TABLE IF NOT EXISTS "orgs" (
   "school" TEXT NOT NULL,
   "source" TEXT NOT NULL,
   "sourced_id" TEXT NOT NULL,
   "status" TEXT,
   "date_last_modified" TEXT,
   "extra" TEXT,
   "name" TEXT,
   "type" TEXT,
   "identifier" TEXT,
   "parent_sourced_id" TEXT,
   "created_run" INTEGER,
   "updated_run" INTEGER,
   "deleted_at" TEXT,
   "deleted_run" INTEGER,
   PRIMARY KEY ("school", "source", "sourced_id")
);
CREATE VIEW "current_orgs" AS SELECT * FROM "orgs" WHERE deleted_at IS NULL
/* current_orgs(school,source,sourced_id,status,date_last_modified,extra,name,type,identifier,parent_sourced_id,created_run,updated_run,deleted_at,deleted_run) */;
CREATE TABLE IF NOT EXISTS "academic_sessions" (
   "school" TEXT NOT NULL,
   "source" TEXT NOT NULL,
   "sourced_id" TEXT NOT NULL,
   "status" TEXT,
   "date_last_modified" TEXT,
   "extra" TEXT,
   "title" TEXT,
   "type" TEXT,
   "start_date" TEXT,
   "end_date" TEXT,
   "parent_sourced_id" TEXT,
   "school_year" TEXT,
   "created_run" INTEGER,
   "updated_run" INTEGER,
   "deleted_at" TEXT,
   "deleted_run" INTEGER,
   PRIMARY KEY ("school", "source", "sourced_id")
);
CREATE VIEW "current_academic_sessions" AS SELECT * FROM "academic_sessions" WHERE deleted_at IS NULL
/* current_academic_sessions(school,source,sourced_id,status,date_last_modified,extra,title,type,start_date,end_date,parent_sourced_id,school_year,created_run,updated_run,deleted_at,deleted_run) */;
CREATE TABLE IF NOT EXISTS "courses" (
   "school" TEXT NOT NULL,
   "source" TEXT NOT NULL,
   "sourced_id" TEXT NOT NULL,
   "status" TEXT,
   "date_last_modified" TEXT,
   "extra" TEXT,
   "title" TEXT,
   "org_sourced_id" TEXT,
   "school_year_sourced_id" TEXT,
   "course_code" TEXT,
   "grades" TEXT,
   "grades_raw" TEXT,
   "subjects" TEXT,
   "subject_codes" TEXT,
   "created_run" INTEGER,
   "updated_run" INTEGER,
   "deleted_at" TEXT,
   "deleted_run" INTEGER,
   PRIMARY KEY ("school", "source", "sourced_id")
);
CREATE VIEW "current_courses" AS SELECT * FROM "courses" WHERE deleted_at IS NULL
/* current_courses(school,source,sourced_id,status,date_last_modified,extra,title,org_sourced_id,school_year_sourced_id,course_code,grades,grades_raw,subjects,subject_codes,created_run,updated_run,deleted_at,deleted_run) */;
CREATE TABLE IF NOT EXISTS "classes" (
   "school" TEXT NOT NULL,
   "source" TEXT NOT NULL,
   "sourced_id" TEXT NOT NULL,
   "status" TEXT,
   "date_last_modified" TEXT,
   "extra" TEXT,
   "title" TEXT,
   "course_sourced_id" TEXT,
   "school_sourced_id" TEXT,
   "term_sourced_ids" TEXT,
   "class_type" TEXT,
   "class_code" TEXT,
   "location" TEXT,
   "grades" TEXT,
   "grades_raw" TEXT,
   "subjects" TEXT,
   "subject_codes" TEXT,
   "periods" TEXT,
   "created_run" INTEGER,
   "updated_run" INTEGER,
   "deleted_at" TEXT,
   "deleted_run" INTEGER,
   PRIMARY KEY ("school", "source", "sourced_id")
);
CREATE VIEW "current_classes" AS SELECT * FROM "classes" WHERE deleted_at IS NULL
/* current_classes(school,source,sourced_id,status,date_last_modified,extra,title,course_sourced_id,school_sourced_id,term_sourced_ids,class_type,class_code,location,grades,grades_raw,subjects,subject_codes,periods,created_run,updated_run,deleted_at,deleted_run) */;
CREATE TABLE IF NOT EXISTS "users" (
   "school" TEXT NOT NULL,
   "source" TEXT NOT NULL,
   "sourced_id" TEXT NOT NULL,
   "status" TEXT,
   "date_last_modified" TEXT,
   "extra" TEXT,
   "role" TEXT,
   "given_name" TEXT,
   "family_name" TEXT,
   "enabled_user" INTEGER,
   "username" TEXT,
   "org_sourced_ids" TEXT,
   "user_ids" TEXT,
   "middle_name" TEXT,
   "preferred_given_name" TEXT,
   "preferred_middle_name" TEXT,
   "preferred_family_name" TEXT,
   "pronouns" TEXT,
   "identifier" TEXT,
   "user_master_identifier" TEXT,
   "email" TEXT,
   "sms" TEXT,
   "phone" TEXT,
   "agent_sourced_ids" TEXT,
   "grades" TEXT,
   "grades_raw" TEXT,
   "primary_org_sourced_id" TEXT,
   "created_run" INTEGER,
   "updated_run" INTEGER,
   "deleted_at" TEXT,
   "deleted_run" INTEGER,
   PRIMARY KEY ("school", "source", "sourced_id")
);
CREATE VIEW "current_users" AS SELECT * FROM "users" WHERE deleted_at IS NULL
/* current_users(school,source,sourced_id,status,date_last_modified,extra,role,given_name,family_name,enabled_user,username,org_sourced_ids,user_ids,middle_name,preferred_given_name,preferred_middle_name,preferred_family_name,pronouns,identifier,user_master_identifier,email,sms,phone,agent_sourced_ids,grades,grades_raw,primary_org_sourced_id,created_run,updated_run,deleted_at,deleted_run) */;
CREATE TABLE IF NOT EXISTS "enrollments" (
   "school" TEXT NOT NULL,
   "source" TEXT NOT NULL,
   "sourced_id" TEXT NOT NULL,
   "status" TEXT,
   "date_last_modified" TEXT,
   "extra" TEXT,
   "class_sourced_id" TEXT,
   "school_sourced_id" TEXT,
   "user_sourced_id" TEXT,
   "role" TEXT,
   "primary" INTEGER,
   "begin_date" TEXT,
   "end_date" TEXT,
   "created_run" INTEGER,
   "updated_run" INTEGER,
   "deleted_at" TEXT,
   "deleted_run" INTEGER,
   PRIMARY KEY ("school", "source", "sourced_id")
);
CREATE VIEW "current_enrollments" AS SELECT * FROM "enrollments" WHERE deleted_at IS NULL
/* current_enrollments(school,source,sourced_id,status,date_last_modified,extra,class_sourced_id,school_sourced_id,user_sourced_id,role,"primary",begin_date,end_date,created_run,updated_run,deleted_at,deleted_run) */;
CREATE TABLE IF NOT EXISTS "demographics" (
   "school" TEXT NOT NULL,
   "source" TEXT NOT NULL,
   "sourced_id" TEXT NOT NULL,
   "status" TEXT,
   "date_last_modified" TEXT,
   "extra" TEXT,
   "birth_date" TEXT,
   "sex" TEXT,
   "american_indian_or_alaska_native" INTEGER,
   "asian" INTEGER,
   "black_or_african_american" INTEGER,
   "native_hawaiian_or_other_pacific_islander" INTEGER,
   "white" INTEGER,
   "demographic_race_two_or_more_races" INTEGER,
   "hispanic_or_latino_ethnicity" INTEGER,
   "country_of_birth_code" TEXT,
   "state_of_birth_abbreviation" TEXT,
   "city_of_birth" TEXT,
   "public_school_residence_status" TEXT,
   "created_run" INTEGER,
   "updated_run" INTEGER,
   "deleted_at" TEXT,
   "deleted_run" INTEGER,
   PRIMARY KEY ("school", "source", "sourced_id")
);
CREATE VIEW "current_demographics" AS SELECT * FROM "demographics" WHERE deleted_at IS NULL
/* current_demographics(school,source,sourced_id,status,date_last_modified,extra,birth_date,sex,american_indian_or_alaska_native,asian,black_or_african_american,native_hawaiian_or_other_pacific_islander,white,demographic_race_two_or_more_races,hispanic_or_latino_ethnicity,country_of_birth_code,state_of_birth_abbreviation,city_of_birth,public_school_residence_status,created_run,updated_run,deleted_at,deleted_run) */;
CREATE TABLE IF NOT EXISTS "roles" (
   "school" TEXT NOT NULL,
   "source" TEXT NOT NULL,
   "sourced_id" TEXT NOT NULL,
   "status" TEXT,
   "date_last_modified" TEXT,
   "extra" TEXT,
   "user_sourced_id" TEXT,
   "role_type" TEXT,
   "role" TEXT,
   "org_sourced_id" TEXT,
   "begin_date" TEXT,
   "end_date" TEXT,
   "user_profile_sourced_id" TEXT,
   "created_run" INTEGER,
   "updated_run" INTEGER,
   "deleted_at" TEXT,
   "deleted_run" INTEGER,
   PRIMARY KEY ("school", "source", "sourced_id")
);
CREATE VIEW "current_roles" AS SELECT * FROM "roles" WHERE deleted_at IS NULL
/* current_roles(school,source,sourced_id,status,date_last_modified,extra,user_sourced_id,role_type,role,org_sourced_id,begin_date,end_date,user_profile_sourced_id,created_run,updated_run,deleted_at,deleted_run) */;
CREATE TABLE IF NOT EXISTS "user_profiles" (
   "school" TEXT NOT NULL,
   "source" TEXT NOT NULL,
   "sourced_id" TEXT NOT NULL,
   "status" TEXT,
   "date_last_modified" TEXT,
   "extra" TEXT,
   "user_sourced_id" TEXT,
   "profile_type" TEXT,
   "vendor_id" TEXT,
   "application_id" TEXT,
   "description" TEXT,
   "credential_type" TEXT,
   "username" TEXT,
   "created_run" INTEGER,
   "updated_run" INTEGER,
   "deleted_at" TEXT,
   "deleted_run" INTEGER,
   PRIMARY KEY ("school", "source", "sourced_id")
);
CREATE VIEW "current_user_profiles" AS SELECT * FROM "user_profiles" WHERE deleted_at IS NULL
/* current_user_profiles(school,source,sourced_id,status,date_last_modified,extra,user_sourced_id,profile_type,vendor_id,application_id,description,credential_type,username,created_run,updated_run,deleted_at,deleted_run) */;
CREATE TABLE IF NOT EXISTS "categories" (
   "school" TEXT NOT NULL,
   "source" TEXT NOT NULL,
   "sourced_id" TEXT NOT NULL,
   "status" TEXT,
   "date_last_modified" TEXT,
   "extra" TEXT,
   "title" TEXT,
   "weight" TEXT,
   "created_run" INTEGER,
   "updated_run" INTEGER,
   "deleted_at" TEXT,
   "deleted_run" INTEGER,
   PRIMARY KEY ("school", "source", "sourced_id")
);
CREATE VIEW "current_categories" AS SELECT * FROM "categories" WHERE deleted_at IS NULL
/* current_categories(school,source,sourced_id,status,date_last_modified,extra,title,weight,created_run,updated_run,deleted_at,deleted_run) */;
CREATE TABLE IF NOT EXISTS "resources" (
   "school" TEXT NOT NULL,
   "source" TEXT NOT NULL,
   "sourced_id" TEXT NOT NULL,
   "status" TEXT,
   "date_last_modified" TEXT,
   "extra" TEXT,
   "vendor_resource_id" TEXT,
   "title" TEXT,
   "roles" TEXT,
   "importance" TEXT,
   "vendor_id" TEXT,
   "application_id" TEXT,
   "created_run" INTEGER,
   "updated_run" INTEGER,
   "deleted_at" TEXT,
   "deleted_run" INTEGER,
   PRIMARY KEY ("school", "source", "sourced_id")
);
CREATE VIEW "current_resources" AS SELECT * FROM "resources" WHERE deleted_at IS NULL
/* current_resources(school,source,sourced_id,status,date_last_modified,extra,vendor_resource_id,title,roles,importance,vendor_id,application_id,created_run,updated_run,deleted_at,deleted_run) */;
CREATE TABLE IF NOT EXISTS "line_items" (
   "school" TEXT NOT NULL,
   "source" TEXT NOT NULL,
   "sourced_id" TEXT NOT NULL,
   "status" TEXT,
   "date_last_modified" TEXT,
   "extra" TEXT,
   "title" TEXT,
   "class_sourced_id" TEXT,
   "description" TEXT,
   "assign_date" TEXT,
   "due_date" TEXT,
   "category_sourced_id" TEXT,
   "grading_period_sourced_id" TEXT,
   "school_sourced_id" TEXT,
   "result_value_min" TEXT,
   "result_value_max" TEXT,
   "created_run" INTEGER,
   "updated_run" INTEGER,
   "deleted_at" TEXT,
   "deleted_run" INTEGER,
   PRIMARY KEY ("school", "source", "sourced_id")
);
CREATE VIEW "current_line_items" AS SELECT * FROM "line_items" WHERE deleted_at IS NULL
/* current_line_items(school,source,sourced_id,status,date_last_modified,extra,title,class_sourced_id,description,assign_date,due_date,category_sourced_id,grading_period_sourced_id,school_sourced_id,result_value_min,result_value_max,created_run,updated_run,deleted_at,deleted_run) */;
CREATE TABLE IF NOT EXISTS "results" (
   "school" TEXT NOT NULL,
   "source" TEXT NOT NULL,
   "sourced_id" TEXT NOT NULL,
   "status" TEXT,
   "date_last_modified" TEXT,
   "extra" TEXT,
   "line_item_sourced_id" TEXT,
   "student_sourced_id" TEXT,
   "score_status" TEXT,
   "score" TEXT,
   "text_score" TEXT,
   "score_date" TEXT,
   "comment" TEXT,
   "class_sourced_id" TEXT,
   "created_run" INTEGER,
   "updated_run" INTEGER,
   "deleted_at" TEXT,
   "deleted_run" INTEGER,
   PRIMARY KEY ("school", "source", "sourced_id")
);
CREATE VIEW "current_results" AS SELECT * FROM "results" WHERE deleted_at IS NULL
/* current_results(school,source,sourced_id,status,date_last_modified,extra,line_item_sourced_id,student_sourced_id,score_status,score,text_score,score_date,comment,class_sourced_id,created_run,updated_run,deleted_at,deleted_run) */;
CREATE TABLE IF NOT EXISTS "class_resources" (
   "school" TEXT NOT NULL,
   "source" TEXT NOT NULL,
   "sourced_id" TEXT NOT NULL,
   "status" TEXT,
   "date_last_modified" TEXT,
   "extra" TEXT,
   "class_sourced_id" TEXT,
   "resource_sourced_id" TEXT,
   "title" TEXT,
   "created_run" INTEGER,
   "updated_run" INTEGER,
   "deleted_at" TEXT,
   "deleted_run" INTEGER,
   PRIMARY KEY ("school", "source", "sourced_id")
);
CREATE VIEW "current_class_resources" AS SELECT * FROM "class_resources" WHERE deleted_at IS NULL
/* current_class_resources(school,source,sourced_id,status,date_last_modified,extra,class_sourced_id,resource_sourced_id,title,created_run,updated_run,deleted_at,deleted_run) */;
CREATE TABLE IF NOT EXISTS "course_resources" (
   "school" TEXT NOT NULL,
   "source" TEXT NOT NULL,
   "sourced_id" TEXT NOT NULL,
   "status" TEXT,
   "date_last_modified" TEXT,
   "extra" TEXT,
   "course_sourced_id" TEXT,
   "resource_sourced_id" TEXT,
   "title" TEXT,
   "created_run" INTEGER,
   "updated_run" INTEGER,
   "deleted_at" TEXT,
   "deleted_run" INTEGER,
   PRIMARY KEY ("school", "source", "sourced_id")
);
CREATE VIEW "current_course_resources" AS SELECT * FROM "course_resources" WHERE deleted_at IS NULL
/* current_course_resources(school,source,sourced_id,status,date_last_modified,extra,course_sourced_id,resource_sourced_id,title,created_run,updated_run,deleted_at,deleted_run) */;
CREATE TABLE IF NOT EXISTS "sync_runs" (
   "id" INTEGER PRIMARY KEY,
   "school" TEXT NOT NULL,
   "source" TEXT NOT NULL,
   "started_at" TEXT NOT NULL,
   "finished_at" TEXT,
   "status" TEXT NOT NULL,
   "counts" TEXT,
   "error" TEXT,
   "state" TEXT,
   "warnings" INTEGER,
   "mode" TEXT,
   "approved_at" TEXT
);
CREATE INDEX "idx_sync_runs_school_source_id"
    ON "sync_runs" ("school", "source", "id");
CREATE TABLE IF NOT EXISTS "changes" (
   "id" INTEGER PRIMARY KEY,
   "run_id" INTEGER NOT NULL,
   "entity" TEXT NOT NULL,
   "school" TEXT,
   "source" TEXT,
   "sourced_id" TEXT NOT NULL,
   "action" TEXT NOT NULL,
   "fields" TEXT
);
CREATE INDEX "idx_changes_run_id_entity"
    ON "changes" ("run_id", "entity");
CREATE TABLE IF NOT EXISTS "run_issues" (
   "id" INTEGER PRIMARY KEY,
   "run_id" INTEGER,
   "level" TEXT,
   "message" TEXT
);
CREATE INDEX "idx_run_issues_run_id"
    ON "run_issues" ("run_id");
