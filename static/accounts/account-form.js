// New account form: show the student fields only while the role "student" is chosen.
// Without JavaScript every field stays visible and the server ignores the student
// fields for other roles.
const role = document.querySelector("#id_role");
const studentFields = document.querySelector("#student-fields");

if (role && studentFields) {
  const update = () => {
    studentFields.hidden = role.value !== "student";
  };
  role.addEventListener("change", update);
  update();
}
