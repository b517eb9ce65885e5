using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class MemberBudgets : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "BudgetMicros",
                table: "OrganizationMembers",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "BudgetPeriod",
                table: "OrganizationMembers",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<long>(
                name: "BudgetPeriodStart",
                table: "OrganizationMembers",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "BudgetSpentMicros",
                table: "OrganizationMembers",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<string>(
                name: "BudgetTimeZone",
                table: "OrganizationMembers",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "BudgetTimeZone",
                table: "ApiKeys",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "BudgetMicros",
                table: "OrganizationMembers");

            migrationBuilder.DropColumn(
                name: "BudgetPeriod",
                table: "OrganizationMembers");

            migrationBuilder.DropColumn(
                name: "BudgetPeriodStart",
                table: "OrganizationMembers");

            migrationBuilder.DropColumn(
                name: "BudgetSpentMicros",
                table: "OrganizationMembers");

            migrationBuilder.DropColumn(
                name: "BudgetTimeZone",
                table: "OrganizationMembers");

            migrationBuilder.DropColumn(
                name: "BudgetTimeZone",
                table: "ApiKeys");
        }
    }
}
