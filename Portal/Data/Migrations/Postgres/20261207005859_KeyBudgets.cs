using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class KeyBudgets : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "BudgetMicros",
                table: "ApiKeys",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "BudgetPeriod",
                table: "ApiKeys",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<long>(
                name: "BudgetPeriodStart",
                table: "ApiKeys",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "BudgetSpentMicros",
                table: "ApiKeys",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "BudgetMicros",
                table: "ApiKeys");

            migrationBuilder.DropColumn(
                name: "BudgetPeriod",
                table: "ApiKeys");

            migrationBuilder.DropColumn(
                name: "BudgetPeriodStart",
                table: "ApiKeys");

            migrationBuilder.DropColumn(
                name: "BudgetSpentMicros",
                table: "ApiKeys");
        }
    }
}
