PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE IF NOT EXISTS "__EFMigrationsHistory" (
    "MigrationId" TEXT NOT NULL CONSTRAINT "PK___EFMigrationsHistory" PRIMARY KEY,
    "ProductVersion" TEXT NOT NULL
);
INSERT INTO __EFMigrationsHistory VALUES('20261122053756_InitialIdentity','8.0.33');
INSERT INTO __EFMigrationsHistory VALUES('20261122055642_Gateway','8.0.33');
INSERT INTO __EFMigrationsHistory VALUES('20261122063626_AuditLog','8.0.33');
INSERT INTO __EFMigrationsHistory VALUES('20261130093700_StatusIndex','8.0.33');
CREATE TABLE IF NOT EXISTS "AspNetRoles" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_AspNetRoles" PRIMARY KEY,
    "Name" TEXT NULL,
    "NormalizedName" TEXT NULL,
    "ConcurrencyStamp" TEXT NULL
);
INSERT INTO AspNetRoles VALUES('role-admin','Admin','ADMIN','role-admin');
CREATE TABLE IF NOT EXISTS "AspNetUsers" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_AspNetUsers" PRIMARY KEY,
    "CreatedAt" TEXT NOT NULL,
    "UserName" TEXT NULL,
    "NormalizedUserName" TEXT NULL,
    "Email" TEXT NULL,
    "NormalizedEmail" TEXT NULL,
    "EmailConfirmed" INTEGER NOT NULL,
    "PasswordHash" TEXT NULL,
    "SecurityStamp" TEXT NULL,
    "ConcurrencyStamp" TEXT NULL,
    "PhoneNumber" TEXT NULL,
    "PhoneNumberConfirmed" INTEGER NOT NULL,
    "TwoFactorEnabled" INTEGER NOT NULL,
    "LockoutEnd" TEXT NULL,
    "LockoutEnabled" INTEGER NOT NULL,
    "AccessFailedCount" INTEGER NOT NULL
);
INSERT INTO AspNetUsers VALUES('87f93fbb-4f95-46b0-bdfc-e0b1b0907240','2026-12-06 08:11:55.6962955','admin@fixture.test','ADMIN@FIXTURE.TEST','admin@fixture.test','ADMIN@FIXTURE.TEST',0,'AQAAAAIAAYagAAAAEAluWiAir+vjNBbNmxl+bdlKrp3MYZvt7nv9U0TkJf5V/YELwzde+1zf4mg6aM80TA==','KS37IIGMAIF3C27ANLHTHSHMXDGF5NYJ','ec7f7206-b1e5-4172-9cb5-38009f25c2af',NULL,0,0,NULL,1,0);
INSERT INTO AspNetUsers VALUES('6827bf70-7558-4124-9117-ab72342544cc','2026-12-06 08:11:57.067938','ada@fixture.test','ADA@FIXTURE.TEST','ada@fixture.test','ADA@FIXTURE.TEST',0,'AQAAAAIAAYagAAAAEISPA+q2n0AcjWuwbWOyt9BD4jeR77pQwjBNE574si5adDpbfsWrI0GEi1EafObrnA==','7MZNJDZPUIEGAFBVKCQPIL62YE3VAACD','b944f908-5f38-41c6-b0b2-2bd2b39b1c97',NULL,0,0,NULL,1,0);
INSERT INTO AspNetUsers VALUES('98a13acf-8583-4b7b-bac7-c319f8a6024b','2026-12-06 08:11:58.263276','bob@fixture.test','BOB@FIXTURE.TEST','bob@fixture.test','BOB@FIXTURE.TEST',0,'AQAAAAIAAYagAAAAEKACKSTYEsKui0rzTv3cLLcGp7ueMutBNgxEmcqPGt07QZ7KY8Djt951M1UFBFDGkg==','S4WOMKVYUYSOLCAATFXPZ7AA6PKZYUHK','652c1695-1df8-4fac-8e51-176b571f8d66',NULL,0,0,NULL,1,0);
INSERT INTO AspNetUsers VALUES('4c73e2ca-386f-42b6-adcd-1a009cdd6e76','2026-12-06 08:11:59.4015485','cyd@fixture.test','CYD@FIXTURE.TEST','cyd@fixture.test','CYD@FIXTURE.TEST',0,'AQAAAAIAAYagAAAAEI9BVgQXFDc4HqmaOtL8URZwBnjKXr3DQTVHV2e+9U92tYdhIWvWpPg6T/08Vh/Z5g==','H5XHHWILGGGABPULBHY3IVGXNDJMVAEK','0f86350d-7288-48e7-86ca-05cdaba487cb',NULL,0,0,NULL,1,0);
CREATE TABLE IF NOT EXISTS "AspNetRoleClaims" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_AspNetRoleClaims" PRIMARY KEY AUTOINCREMENT,
    "RoleId" TEXT NOT NULL,
    "ClaimType" TEXT NULL,
    "ClaimValue" TEXT NULL,
    CONSTRAINT "FK_AspNetRoleClaims_AspNetRoles_RoleId" FOREIGN KEY ("RoleId") REFERENCES "AspNetRoles" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "AspNetUserClaims" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_AspNetUserClaims" PRIMARY KEY AUTOINCREMENT,
    "UserId" TEXT NOT NULL,
    "ClaimType" TEXT NULL,
    "ClaimValue" TEXT NULL,
    CONSTRAINT "FK_AspNetUserClaims_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "AspNetUserLogins" (
    "LoginProvider" TEXT NOT NULL,
    "ProviderKey" TEXT NOT NULL,
    "ProviderDisplayName" TEXT NULL,
    "UserId" TEXT NOT NULL,
    CONSTRAINT "PK_AspNetUserLogins" PRIMARY KEY ("LoginProvider", "ProviderKey"),
    CONSTRAINT "FK_AspNetUserLogins_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "AspNetUserRoles" (
    "UserId" TEXT NOT NULL,
    "RoleId" TEXT NOT NULL,
    CONSTRAINT "PK_AspNetUserRoles" PRIMARY KEY ("UserId", "RoleId"),
    CONSTRAINT "FK_AspNetUserRoles_AspNetRoles_RoleId" FOREIGN KEY ("RoleId") REFERENCES "AspNetRoles" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_AspNetUserRoles_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);
INSERT INTO AspNetUserRoles VALUES('87f93fbb-4f95-46b0-bdfc-e0b1b0907240','role-admin');
INSERT INTO AspNetUserRoles VALUES('4c73e2ca-386f-42b6-adcd-1a009cdd6e76','role-admin');
CREATE TABLE IF NOT EXISTS "AspNetUserTokens" (
    "UserId" TEXT NOT NULL,
    "LoginProvider" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "Value" TEXT NULL,
    CONSTRAINT "PK_AspNetUserTokens" PRIMARY KEY ("UserId", "LoginProvider", "Name"),
    CONSTRAINT "FK_AspNetUserTokens_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "ApiKeys" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_ApiKeys" PRIMARY KEY,
    "UserId" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "Hash" TEXT NOT NULL,
    "Prefix" TEXT NOT NULL,
    "Last4" TEXT NOT NULL,
    "CreatedAt" TEXT NOT NULL,
    "LastUsedAt" TEXT NULL,
    "ExpiresAt" TEXT NULL,
    "RevokedAt" TEXT NULL,
    "SpendCapMicros" INTEGER NULL,
    "SpentMicros" INTEGER NOT NULL,
    "AllowedModels" TEXT NOT NULL,
    "RateLimitPerMinute" INTEGER NULL,
    CONSTRAINT "FK_ApiKeys_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);
INSERT INTO ApiKeys VALUES('3ea058c7-2d34-4739-8c8b-8f888324db5d','6827bf70-7558-4124-9117-ab72342544cc','laptop','2a26d0d20f6f72355f8bcaa112cba47b88f13fe26fd4f17afe9938823bf4c41e','sk-portal-kXZ4','U0qK','2026-12-06 08:12:08.3593879','2026-12-06 08:12:16.6461053',NULL,NULL,NULL,4349,'',NULL);
INSERT INTO ApiKeys VALUES('0d14414d-2c89-425b-a5c7-7d2f15b9f388','6827bf70-7558-4124-9117-ab72342544cc','ci','039cabf5690c2138c186cda73dda49a85e8e28f8a65f15e1741e7080c032deeb','sk-portal-lEvB','VNsI','2026-12-06 08:12:09.6078287','2026-12-06 08:12:16.8897118','2027-12-06 08:12:09.6023111',NULL,1500000,999,'glm-5,deepseek-r1',2);
INSERT INTO ApiKeys VALUES('d9c662b1-b7d3-4e27-b02b-c9b616e2d198','6827bf70-7558-4124-9117-ab72342544cc','old-laptop','53621cb7694cc80cd35129d40052c174c5c9540167d31ccc3be9b5ecd98136ca','sk-portal-PBuu','TbJW','2026-12-06 08:12:10.886393','2026-12-06 08:12:16.9212898',NULL,'2026-12-06 08:12:18.1151617',NULL,760,'',NULL);
INSERT INTO ApiKeys VALUES('8995e896-12d4-49b3-b54c-1da5334c2408','98a13acf-8583-4b7b-bac7-c319f8a6024b','trial','92861c4f6be65adbb6740114ad8b5e032b3cf0fc7e45af79b8abd78f7121b72c','sk-portal-u4rA','utaC','2026-12-06 08:12:12.0846139','2026-12-06 08:12:16.9333334',NULL,NULL,NULL,264,'',NULL);
INSERT INTO ApiKeys VALUES('a7830bdf-7576-4716-adda-2edf4e8c6ee6','87f93fbb-4f95-46b0-bdfc-e0b1b0907240','ops','5a64745a4e37094e869313f6b865743e6db4b942b2108491de017a5a018c9782','sk-portal-ntfk','I5VK','2026-12-06 08:12:13.2524201','2026-12-06 08:12:16.9857489',NULL,NULL,NULL,325,'',NULL);
CREATE TABLE IF NOT EXISTS "CreditBalances" (
    "UserId" TEXT NOT NULL CONSTRAINT "PK_CreditBalances" PRIMARY KEY,
    "BalanceMicros" INTEGER NOT NULL,
    CONSTRAINT "FK_CreditBalances_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);
INSERT INTO CreditBalances VALUES('87f93fbb-4f95-46b0-bdfc-e0b1b0907240',2499675);
INSERT INTO CreditBalances VALUES('6827bf70-7558-4124-9117-ab72342544cc',26868892);
INSERT INTO CreditBalances VALUES('98a13acf-8583-4b7b-bac7-c319f8a6024b',19736);
INSERT INTO CreditBalances VALUES('4c73e2ca-386f-42b6-adcd-1a009cdd6e76',1000000);
CREATE TABLE IF NOT EXISTS "DataProtectionKeys" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_DataProtectionKeys" PRIMARY KEY AUTOINCREMENT,
    "FriendlyName" TEXT NULL,
    "Xml" TEXT NOT NULL
);
INSERT INTO DataProtectionKeys VALUES(1,'key-289174a8-ed01-498e-88c6-ce3237657300','<key id="289174a8-ed01-498e-88c6-ce3237657300" version="1"><creationDate>2026-12-06T08:12:14.4819538Z</creationDate><activationDate>2026-12-06T08:12:14.3595261Z</activationDate><expirationDate>2027-03-06T08:12:14.3595261Z</expirationDate><descriptor deserializerType="Microsoft.AspNetCore.DataProtection.AuthenticatedEncryption.ConfigurationModel.AuthenticatedEncryptorDescriptorDeserializer, Microsoft.AspNetCore.DataProtection, Version=8.0.0.0, Culture=neutral, PublicKeyToken=adb9793829ddae60"><descriptor><encryption algorithm="AES_256_CBC" /><validation algorithm="HMACSHA256" /><masterKey p4:requiresEncryption="true" xmlns:p4="http://schemas.asp.net/2015/03/dataProtection"><!-- Warning: the key below is in an unencrypted form. --><value>f04lJ8oDTYJ8elhlK7yPZaZWjRPFqHwtR1Sj143MovUvBv6g4109+irzFgHCNC0tiOpDQzAmr+4YckFkpX6ycA==</value></masterKey></descriptor></descriptor></key>');
CREATE TABLE IF NOT EXISTS "LedgerEntries" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_LedgerEntries" PRIMARY KEY AUTOINCREMENT,
    "UserId" TEXT NOT NULL,
    "Kind" TEXT NOT NULL,
    "AmountMicros" INTEGER NOT NULL,
    "RequestId" TEXT NULL,
    "ApiKeyId" TEXT NULL,
    "Reason" TEXT NULL,
    "ActorId" TEXT NULL,
    "CreatedAt" TEXT NOT NULL,
    CONSTRAINT "FK_LedgerEntries_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);
INSERT INTO LedgerEntries VALUES(1,'87f93fbb-4f95-46b0-bdfc-e0b1b0907240','grant',2500000,NULL,NULL,'admin''s own tests',NULL,'2026-12-06 08:12:00.8440934');
INSERT INTO LedgerEntries VALUES(2,'6827bf70-7558-4124-9117-ab72342544cc','grant',25000000,NULL,NULL,'welcome',NULL,'2026-12-06 08:12:02.0757705');
INSERT INTO LedgerEntries VALUES(3,'6827bf70-7558-4124-9117-ab72342544cc','grant',5125000,NULL,NULL,'conference bonus',NULL,'2026-12-06 08:12:03.3137932');
INSERT INTO LedgerEntries VALUES(4,'6827bf70-7558-4124-9117-ab72342544cc','grant',-3250000,NULL,NULL,'correction: double grant',NULL,'2026-12-06 08:12:04.5473483');
INSERT INTO LedgerEntries VALUES(5,'98a13acf-8583-4b7b-bac7-c319f8a6024b','grant',20000,NULL,NULL,'trial',NULL,'2026-12-06 08:12:05.7947885');
INSERT INTO LedgerEntries VALUES(6,'4c73e2ca-386f-42b6-adcd-1a009cdd6e76','grant',1000000,NULL,NULL,'onboarding',NULL,'2026-12-06 08:12:07.1528649');
INSERT INTO LedgerEntries VALUES(7,'6827bf70-7558-4124-9117-ab72342544cc','hold',-41005,'req_01k956ibbhj9i5gut792arqd','3ea058c7-2d34-4739-8c8b-8f888324db5d',NULL,NULL,'2026-12-06 08:12:16.7316157');
INSERT INTO LedgerEntries VALUES(8,'6827bf70-7558-4124-9117-ab72342544cc','release',41005,'req_01k956ibbhj9i5gut792arqd','3ea058c7-2d34-4739-8c8b-8f888324db5d',NULL,NULL,'2026-12-06 08:12:16.772152');
INSERT INTO LedgerEntries VALUES(9,'6827bf70-7558-4124-9117-ab72342544cc','charge',-691,'req_01k956ibbhj9i5gut792arqd','3ea058c7-2d34-4739-8c8b-8f888324db5d',NULL,NULL,'2026-12-06 08:12:16.772152');
INSERT INTO LedgerEntries VALUES(10,'6827bf70-7558-4124-9117-ab72342544cc','hold',-40998,'req_01k956ibhr9fv8vlhjcbnp6q','3ea058c7-2d34-4739-8c8b-8f888324db5d',NULL,NULL,'2026-12-06 08:12:16.8284366');
INSERT INTO LedgerEntries VALUES(11,'6827bf70-7558-4124-9117-ab72342544cc','release',40998,'req_01k956ibhr9fv8vlhjcbnp6q','3ea058c7-2d34-4739-8c8b-8f888324db5d',NULL,NULL,'2026-12-06 08:12:16.8380636');
INSERT INTO LedgerEntries VALUES(12,'6827bf70-7558-4124-9117-ab72342544cc','charge',-1091,'req_01k956ibhr9fv8vlhjcbnp6q','3ea058c7-2d34-4739-8c8b-8f888324db5d',NULL,NULL,'2026-12-06 08:12:16.8380636');
INSERT INTO LedgerEntries VALUES(13,'6827bf70-7558-4124-9117-ab72342544cc','hold',-53294,'req_01k956ibii7piqfdtebcjo1c','3ea058c7-2d34-4739-8c8b-8f888324db5d',NULL,NULL,'2026-12-06 08:12:16.8512353');
INSERT INTO LedgerEntries VALUES(14,'6827bf70-7558-4124-9117-ab72342544cc','release',53294,'req_01k956ibii7piqfdtebcjo1c','3ea058c7-2d34-4739-8c8b-8f888324db5d',NULL,NULL,'2026-12-06 08:12:16.85273');
INSERT INTO LedgerEntries VALUES(15,'6827bf70-7558-4124-9117-ab72342544cc','charge',-655,'req_01k956ibii7piqfdtebcjo1c','3ea058c7-2d34-4739-8c8b-8f888324db5d',NULL,NULL,'2026-12-06 08:12:16.85273');
INSERT INTO LedgerEntries VALUES(16,'6827bf70-7558-4124-9117-ab72342544cc','hold',-1040,'req_01k956ibitii6rgecskma7je','3ea058c7-2d34-4739-8c8b-8f888324db5d',NULL,NULL,'2026-12-06 08:12:16.8632445');
INSERT INTO LedgerEntries VALUES(17,'6827bf70-7558-4124-9117-ab72342544cc','release',1040,'req_01k956ibitii6rgecskma7je','3ea058c7-2d34-4739-8c8b-8f888324db5d',NULL,NULL,'2026-12-06 08:12:16.8641713');
INSERT INTO LedgerEntries VALUES(18,'6827bf70-7558-4124-9117-ab72342544cc','charge',-1008,'req_01k956ibitii6rgecskma7je','3ea058c7-2d34-4739-8c8b-8f888324db5d',NULL,NULL,'2026-12-06 08:12:16.8641713');
INSERT INTO LedgerEntries VALUES(19,'6827bf70-7558-4124-9117-ab72342544cc','hold',-1327,'req_01k956ibjpsqvcnt9qs28uct','0d14414d-2c89-425b-a5c7-7d2f15b9f388',NULL,NULL,'2026-12-06 08:12:16.894399');
INSERT INTO LedgerEntries VALUES(20,'6827bf70-7558-4124-9117-ab72342544cc','release',1327,'req_01k956ibjpsqvcnt9qs28uct','0d14414d-2c89-425b-a5c7-7d2f15b9f388',NULL,NULL,'2026-12-06 08:12:16.8950538');
INSERT INTO LedgerEntries VALUES(21,'6827bf70-7558-4124-9117-ab72342544cc','charge',-999,'req_01k956ibjpsqvcnt9qs28uct','0d14414d-2c89-425b-a5c7-7d2f15b9f388',NULL,NULL,'2026-12-06 08:12:16.8950538');
INSERT INTO LedgerEntries VALUES(22,'6827bf70-7558-4124-9117-ab72342544cc','hold',-41008,'req_01k956ibkpraampeboc7ofsm','d9c662b1-b7d3-4e27-b02b-c9b616e2d198',NULL,NULL,'2026-12-06 08:12:16.9231284');
INSERT INTO LedgerEntries VALUES(23,'6827bf70-7558-4124-9117-ab72342544cc','release',41008,'req_01k956ibkpraampeboc7ofsm','d9c662b1-b7d3-4e27-b02b-c9b616e2d198',NULL,NULL,'2026-12-06 08:12:16.9248294');
INSERT INTO LedgerEntries VALUES(24,'6827bf70-7558-4124-9117-ab72342544cc','charge',-760,'req_01k956ibkpraampeboc7ofsm','d9c662b1-b7d3-4e27-b02b-c9b616e2d198',NULL,NULL,'2026-12-06 08:12:16.9248294');
INSERT INTO LedgerEntries VALUES(25,'98a13acf-8583-4b7b-bac7-c319f8a6024b','hold',-268,'req_01k956ibmenvcds27ki6n4sl','8995e896-12d4-49b3-b54c-1da5334c2408',NULL,NULL,'2026-12-06 08:12:16.9752361');
INSERT INTO LedgerEntries VALUES(26,'98a13acf-8583-4b7b-bac7-c319f8a6024b','release',268,'req_01k956ibmenvcds27ki6n4sl','8995e896-12d4-49b3-b54c-1da5334c2408',NULL,NULL,'2026-12-06 08:12:16.9756801');
INSERT INTO LedgerEntries VALUES(27,'98a13acf-8583-4b7b-bac7-c319f8a6024b','charge',-264,'req_01k956ibmenvcds27ki6n4sl','8995e896-12d4-49b3-b54c-1da5334c2408',NULL,NULL,'2026-12-06 08:12:16.9756801');
INSERT INTO LedgerEntries VALUES(28,'87f93fbb-4f95-46b0-bdfc-e0b1b0907240','hold',-524,'req_01k956ibmp2jl05cmtihu4li','a7830bdf-7576-4716-adda-2edf4e8c6ee6',NULL,NULL,'2026-12-06 08:12:16.9875576');
INSERT INTO LedgerEntries VALUES(29,'87f93fbb-4f95-46b0-bdfc-e0b1b0907240','release',524,'req_01k956ibmp2jl05cmtihu4li','a7830bdf-7576-4716-adda-2edf4e8c6ee6',NULL,NULL,'2026-12-06 08:12:16.9884825');
INSERT INTO LedgerEntries VALUES(30,'87f93fbb-4f95-46b0-bdfc-e0b1b0907240','charge',-325,'req_01k956ibmp2jl05cmtihu4li','a7830bdf-7576-4716-adda-2edf4e8c6ee6',NULL,NULL,'2026-12-06 08:12:16.9884825');
INSERT INTO LedgerEntries VALUES(31,'6827bf70-7558-4124-9117-ab72342544cc','hold',-40981,'req_01k956ijbqvfo1i1uoqakgja','3ea058c7-2d34-4739-8c8b-8f888324db5d',NULL,NULL,'2026-12-06 08:12:24.8302551');
INSERT INTO LedgerEntries VALUES(32,'6827bf70-7558-4124-9117-ab72342544cc','release',40981,'req_01k956ijbqvfo1i1uoqakgja','3ea058c7-2d34-4739-8c8b-8f888324db5d',NULL,NULL,'2026-12-06 08:12:24.831236');
INSERT INTO LedgerEntries VALUES(33,'6827bf70-7558-4124-9117-ab72342544cc','charge',-904,'req_01k956ijbqvfo1i1uoqakgja','3ea058c7-2d34-4739-8c8b-8f888324db5d',NULL,NULL,'2026-12-06 08:12:24.831236');
CREATE TABLE IF NOT EXISTS "Models" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_Models" PRIMARY KEY,
    "Aliases" TEXT NOT NULL,
    "OwnedBy" TEXT NOT NULL,
    "SupportsTools" INTEGER NOT NULL,
    "SupportsJsonMode" INTEGER NOT NULL,
    "SupportsReasoning" INTEGER NOT NULL,
    "AlwaysReasons" INTEGER NOT NULL,
    "MaxOutputTokens" INTEGER NOT NULL,
    "ContextLength" INTEGER NOT NULL,
    "InputPriceMicros" INTEGER NOT NULL,
    "OutputPriceMicros" INTEGER NOT NULL,
    "Enabled" INTEGER NOT NULL,
    "CreatedAt" TEXT NOT NULL
);
INSERT INTO Models VALUES('deepseek-r1','deepseek/deepseek-r1','deepseek',0,1,1,1,8192,128000,1750000,6500000,1,'2026-11-01 00:00:00');
INSERT INTO Models VALUES('glm-5','zhipu/glm-5','zhipu',1,1,1,0,8192,200000,1500000,5000000,1,'2026-11-01 00:00:00');
INSERT INTO Models VALUES('glm-5.2','zhipu/glm-5.2','zhipu',1,1,1,0,8192,200000,2500000,7500000,1,'2026-11-01 00:00:00');
INSERT INTO Models VALUES('kimi-k2','moonshotai/kimi-k2','moonshotai',1,1,0,0,8192,128000,1500000,6000000,1,'2026-11-01 00:00:00');
CREATE TABLE IF NOT EXISTS "Settings" (
    "Key" TEXT NOT NULL CONSTRAINT "PK_Settings" PRIMARY KEY,
    "Value" TEXT NOT NULL
);
INSERT INTO Settings VALUES('api.enabled','true');
CREATE TABLE IF NOT EXISTS "UsageRecords" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_UsageRecords" PRIMARY KEY AUTOINCREMENT,
    "RequestId" TEXT NOT NULL,
    "UserId" TEXT NOT NULL,
    "ApiKeyId" TEXT NULL,
    "ModelId" TEXT NOT NULL,
    "Upstream" TEXT NULL,
    "PromptTokens" INTEGER NOT NULL,
    "CompletionTokens" INTEGER NOT NULL,
    "ReasoningTokens" INTEGER NOT NULL,
    "CachedTokens" INTEGER NOT NULL,
    "CostMicros" INTEGER NOT NULL,
    "InputPriceMicros" INTEGER NOT NULL,
    "OutputPriceMicros" INTEGER NOT NULL,
    "Stream" INTEGER NOT NULL,
    "LatencyMs" INTEGER NOT NULL,
    "TimeToFirstTokenMs" INTEGER NULL,
    "Status" INTEGER NOT NULL,
    "ErrorCode" TEXT NULL,
    "Provenance" TEXT NOT NULL,
    "CreatedAt" TEXT NOT NULL,
    CONSTRAINT "FK_UsageRecords_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);
INSERT INTO UsageRecords VALUES(1,'req_01k956ibbhj9i5gut792arqd','6827bf70-7558-4124-9117-ab72342544cc','3ea058c7-2d34-4739-8c8b-8f888324db5d','glm-5','simulated',14,134,0,0,691,1500000,5000000,0,93,NULL,200,NULL,'reported','2026-12-06 08:12:16.7718943');
INSERT INTO UsageRecords VALUES(2,'req_01k956ibhr9fv8vlhjcbnp6q','6827bf70-7558-4124-9117-ab72342544cc','3ea058c7-2d34-4739-8c8b-8f888324db5d','glm-5','simulated',14,214,0,0,1091,1500000,5000000,1,9,7,200,NULL,'reported','2026-12-06 08:12:16.8380621');
INSERT INTO UsageRecords VALUES(3,'req_01k956ibii7piqfdtebcjo1c','6827bf70-7558-4124-9117-ab72342544cc','3ea058c7-2d34-4739-8c8b-8f888324db5d','deepseek-r1','simulated',14,97,45,0,655,1750000,6500000,1,1,0,200,NULL,'reported','2026-12-06 08:12:16.8527292');
INSERT INTO UsageRecords VALUES(4,'req_01k956ibitii6rgecskma7je','6827bf70-7558-4124-9117-ab72342544cc','3ea058c7-2d34-4739-8c8b-8f888324db5d','glm-5.2','simulated',19,128,0,0,1008,2500000,7500000,0,2,NULL,200,NULL,'reported','2026-12-06 08:12:16.8641705');
INSERT INTO UsageRecords VALUES(5,'req_01k956ibj773qjcsvq4ui5r9','6827bf70-7558-4124-9117-ab72342544cc','3ea058c7-2d34-4739-8c8b-8f888324db5d','no-such-model',NULL,0,0,0,0,0,0,0,0,1,NULL,404,'model_not_found','reported','2026-12-06 08:12:16.8732792');
INSERT INTO UsageRecords VALUES(6,'req_01k956ibjpsqvcnt9qs28uct','6827bf70-7558-4124-9117-ab72342544cc','0d14414d-2c89-425b-a5c7-7d2f15b9f388','deepseek-r1','simulated',10,151,64,0,999,1750000,6500000,0,0,NULL,200,NULL,'reported','2026-12-06 08:12:16.8950528');
INSERT INTO UsageRecords VALUES(7,'req_01k956ibk7toen0aoqcerslu','6827bf70-7558-4124-9117-ab72342544cc','0d14414d-2c89-425b-a5c7-7d2f15b9f388','glm-5.2',NULL,0,0,0,0,0,0,0,0,0,NULL,403,'permission_denied','reported','2026-12-06 08:12:16.9034799');
INSERT INTO UsageRecords VALUES(8,'req_01k956ibkhikaiddt7d0mbta','6827bf70-7558-4124-9117-ab72342544cc','0d14414d-2c89-425b-a5c7-7d2f15b9f388','unknown',NULL,0,0,0,0,0,0,0,0,0,NULL,429,'rate_limit_exceeded','reported','2026-12-06 08:12:16.9137039');
INSERT INTO UsageRecords VALUES(9,'req_01k956ibkpraampeboc7ofsm','6827bf70-7558-4124-9117-ab72342544cc','d9c662b1-b7d3-4e27-b02b-c9b616e2d198','glm-5','simulated',13,148,0,0,760,1500000,5000000,1,1,0,200,NULL,'reported','2026-12-06 08:12:16.9248284');
INSERT INTO UsageRecords VALUES(10,'req_01k956ibl5fpkch13dbvl16g','98a13acf-8583-4b7b-bac7-c319f8a6024b','8995e896-12d4-49b3-b54c-1da5334c2408','glm-5',NULL,0,0,0,0,0,0,0,0,31,NULL,402,'insufficient_quota','reported','2026-12-06 08:12:16.9668887');
INSERT INTO UsageRecords VALUES(11,'req_01k956ibmenvcds27ki6n4sl','98a13acf-8583-4b7b-bac7-c319f8a6024b','8995e896-12d4-49b3-b54c-1da5334c2408','glm-5','simulated',9,50,0,0,264,1500000,5000000,0,0,NULL,200,NULL,'reported','2026-12-06 08:12:16.9756792');
INSERT INTO UsageRecords VALUES(12,'req_01k956ibmp2jl05cmtihu4li','87f93fbb-4f95-46b0-bdfc-e0b1b0907240','a7830bdf-7576-4716-adda-2edf4e8c6ee6','glm-5','simulated',10,62,0,0,325,1500000,5000000,1,0,0,200,NULL,'reported','2026-12-06 08:12:16.9884816');
INSERT INTO UsageRecords VALUES(13,'req_01k956ijbqvfo1i1uoqakgja','6827bf70-7558-4124-9117-ab72342544cc','3ea058c7-2d34-4739-8c8b-8f888324db5d','glm-5','simulated',9,178,0,0,904,1500000,5000000,0,2,NULL,200,NULL,'reported','2026-12-06 08:12:24.8312349');
CREATE TABLE IF NOT EXISTS "ModelUpstreams" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_ModelUpstreams" PRIMARY KEY AUTOINCREMENT,
    "ModelId" TEXT NOT NULL,
    "BaseUrl" TEXT NOT NULL,
    "UpstreamModel" TEXT NOT NULL,
    "ProtectedApiKey" TEXT NULL,
    "Priority" INTEGER NOT NULL,
    "TimeoutSeconds" INTEGER NOT NULL,
    "Enabled" INTEGER NOT NULL,
    CONSTRAINT "FK_ModelUpstreams_Models_ModelId" FOREIGN KEY ("ModelId") REFERENCES "Models" ("Id") ON DELETE CASCADE
);
INSERT INTO ModelUpstreams VALUES(1,'kimi-k2','http://127.0.0.1:9/v1','kimi-k2-fixture','CfDJ8Kh0kSgB7Y5JiMbOMjdlcwAgjI2i1Qz8cEVFeiQF5ErvKtPdLdNqovPQZ2NiRTkFwZGGF6Z2ATIx-f54yoq7cO51nlOdFE-1MocaNLJY0jcUK3o_mh9KXJJL_JohBRnLMaO2s84ZtO_yFQKImcGAZGY',5,30,1);
CREATE TABLE IF NOT EXISTS "AuditEntries" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_AuditEntries" PRIMARY KEY AUTOINCREMENT,
    "At" TEXT NOT NULL,
    "ActorId" TEXT NULL,
    "Actor" TEXT NOT NULL,
    "Action" TEXT NOT NULL,
    "Target" TEXT NOT NULL,
    "Details" TEXT NOT NULL,
    "PrevHash" TEXT NOT NULL,
    "Hash" TEXT NOT NULL
);
INSERT INTO AuditEntries VALUES(1,'2026-12-06 08:12:00.93445',NULL,'cli','credits.grant','user:admin@fixture.test','{"userId":"87f93fbb-4f95-46b0-bdfc-e0b1b0907240","amountUsd":"2.5","reason":"admin\u0027s own tests"}','0000000000000000000000000000000000000000000000000000000000000000','5d7393b276e33ca4dbe96a7e0ce11dcd69ae02162afd274f4da7c05705bffb53');
INSERT INTO AuditEntries VALUES(2,'2026-12-06 08:12:02.16397',NULL,'cli','credits.grant','user:ada@fixture.test','{"userId":"6827bf70-7558-4124-9117-ab72342544cc","amountUsd":"25","reason":"welcome"}','5d7393b276e33ca4dbe96a7e0ce11dcd69ae02162afd274f4da7c05705bffb53','ed1426a74659f8df714a5ccccbfa9c9b86e3e2057884ddb878404b14e8f20d3a');
INSERT INTO AuditEntries VALUES(3,'2026-12-06 08:12:03.407856',NULL,'cli','credits.grant','user:ada@fixture.test','{"userId":"6827bf70-7558-4124-9117-ab72342544cc","amountUsd":"5.125","reason":"conference bonus"}','ed1426a74659f8df714a5ccccbfa9c9b86e3e2057884ddb878404b14e8f20d3a','66d100e0381ab8fed1278605b40af868093f394062a25613ef3f21fe8882d0a8');
INSERT INTO AuditEntries VALUES(4,'2026-12-06 08:12:04.641891',NULL,'cli','credits.deduct','user:ada@fixture.test','{"userId":"6827bf70-7558-4124-9117-ab72342544cc","amountUsd":"3.25","reason":"correction: double grant"}','66d100e0381ab8fed1278605b40af868093f394062a25613ef3f21fe8882d0a8','ffea6666e585826c5627b19435c4d8d9568b054df0657608327c65f0a0a59591');
INSERT INTO AuditEntries VALUES(5,'2026-12-06 08:12:05.884648',NULL,'cli','credits.grant','user:bob@fixture.test','{"userId":"98a13acf-8583-4b7b-bac7-c319f8a6024b","amountUsd":"0.02","reason":"trial"}','ffea6666e585826c5627b19435c4d8d9568b054df0657608327c65f0a0a59591','74cf5407e884c314921fd79ae7853465c481a77c4903afa0a096ad4fcf0c8de4');
INSERT INTO AuditEntries VALUES(6,'2026-12-06 08:12:07.242632',NULL,'cli','credits.grant','user:cyd@fixture.test','{"userId":"4c73e2ca-386f-42b6-adcd-1a009cdd6e76","amountUsd":"1","reason":"onboarding"}','74cf5407e884c314921fd79ae7853465c481a77c4903afa0a096ad4fcf0c8de4','30783b4a8d2f1417c25f0e354d0623a7ef7fce61d6f04a2910909102b666c85a');
INSERT INTO AuditEntries VALUES(7,'2026-12-06 08:12:14.843588',NULL,'cli','upstream.create','upstream:1','{"model":"kimi-k2","baseUrl":"http://127.0.0.1:9/v1","upstreamModel":"kimi-k2-fixture","priority":5,"timeoutSeconds":30,"enabled":true,"key":"set"}','30783b4a8d2f1417c25f0e354d0623a7ef7fce61d6f04a2910909102b666c85a','227f189a49ab63b6990095b513527f62dc6cb67356569bf3367cddd77847cb7b');
INSERT INTO AuditEntries VALUES(8,'2026-12-06 08:12:20.66548',NULL,'cli','api.switch','api','{"from":"on","to":"off"}','227f189a49ab63b6990095b513527f62dc6cb67356569bf3367cddd77847cb7b','73be499d014f2e8d711171eba9cede939d526fac799b03071ade13b148271ef5');
INSERT INTO AuditEntries VALUES(9,'2026-12-06 08:12:23.185562',NULL,'cli','api.switch','api','{"from":"off","to":"on"}','73be499d014f2e8d711171eba9cede939d526fac799b03071ade13b148271ef5','27a387cac0c5354ee15b033990a3c449f395d5176debf8a17c758645408d80ef');
INSERT INTO AuditEntries VALUES(10,'2026-12-06 08:12:25.965595',NULL,'cli','role.set','user:cyd@fixture.test','{"userId":"4c73e2ca-386f-42b6-adcd-1a009cdd6e76","role":"Admin"}','27a387cac0c5354ee15b033990a3c449f395d5176debf8a17c758645408d80ef','529279492dd92822232e7511772f6409780d66d8ce44d7a6c8e30c77dc78ee3f');
DELETE FROM sqlite_sequence;
INSERT INTO sqlite_sequence VALUES('LedgerEntries',33);
INSERT INTO sqlite_sequence VALUES('AuditEntries',10);
INSERT INTO sqlite_sequence VALUES('DataProtectionKeys',1);
INSERT INTO sqlite_sequence VALUES('ModelUpstreams',1);
INSERT INTO sqlite_sequence VALUES('UsageRecords',13);
CREATE INDEX "IX_AspNetRoleClaims_RoleId" ON "AspNetRoleClaims" ("RoleId");
CREATE UNIQUE INDEX "RoleNameIndex" ON "AspNetRoles" ("NormalizedName");
CREATE INDEX "IX_AspNetUserClaims_UserId" ON "AspNetUserClaims" ("UserId");
CREATE INDEX "IX_AspNetUserLogins_UserId" ON "AspNetUserLogins" ("UserId");
CREATE INDEX "IX_AspNetUserRoles_RoleId" ON "AspNetUserRoles" ("RoleId");
CREATE INDEX "EmailIndex" ON "AspNetUsers" ("NormalizedEmail");
CREATE UNIQUE INDEX "UserNameIndex" ON "AspNetUsers" ("NormalizedUserName");
CREATE UNIQUE INDEX "IX_ApiKeys_Hash" ON "ApiKeys" ("Hash");
CREATE INDEX "IX_ApiKeys_UserId" ON "ApiKeys" ("UserId");
CREATE UNIQUE INDEX "IX_LedgerEntries_RequestId_Kind" ON "LedgerEntries" ("RequestId", "Kind");
CREATE INDEX "IX_LedgerEntries_UserId_Id" ON "LedgerEntries" ("UserId", "Id");
CREATE INDEX "IX_ModelUpstreams_ModelId" ON "ModelUpstreams" ("ModelId");
CREATE UNIQUE INDEX "IX_UsageRecords_RequestId" ON "UsageRecords" ("RequestId");
CREATE INDEX "IX_UsageRecords_UserId_CreatedAt" ON "UsageRecords" ("UserId", "CreatedAt");
CREATE UNIQUE INDEX "IX_AuditEntries_Hash" ON "AuditEntries" ("Hash");
CREATE UNIQUE INDEX "IX_AuditEntries_PrevHash" ON "AuditEntries" ("PrevHash");
CREATE INDEX "IX_UsageRecords_ModelId_CreatedAt" ON "UsageRecords" ("ModelId", "CreatedAt");
COMMIT;
